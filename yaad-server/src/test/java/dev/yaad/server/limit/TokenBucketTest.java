package dev.yaad.server.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Token buckets on a clock the test moves: bursts, refill, costs in bytes, and keys forgotten once full again. */
class TokenBucketTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  @Test
  void aFullBucket_grantsItsBurst_thenRefillsAtItsRate() {
    TokenBucket bucket = new TokenBucket(Rate.parse("3/9s"), now::get);
    for (int i = 0; i < 3; i++) {
      assertThat(bucket.tryTake(1)).isZero();
    }
    long wait = bucket.tryTake(1);
    assertThat(Duration.ofNanos(wait)).isBetween(Duration.ofMillis(2999), Duration.ofMillis(3001));
    now.addAndGet(wait - 1_000);
    assertThat(bucket.tryTake(1)).as("a microsecond early").isPositive();
    now.addAndGet(1_000);
    assertThat(bucket.tryTake(1)).isZero();
    now.addAndGet(Duration.ofHours(1).toNanos()); // a long pause refills to the burst, not beyond
    for (int i = 0; i < 3; i++) {
      assertThat(bucket.tryTake(1)).isZero();
    }
    assertThat(bucket.tryTake(1)).isPositive();
  }

  @Test
  void costs_areTakenWhole_orNotAtAll() {
    TokenBucket bytes = new TokenBucket(Rate.parse("1000/s"), now::get);
    assertThat(bytes.tryTake(600)).isZero();
    assertThat(bytes.tryTake(600)).as("only 400 left: nothing taken").isPositive();
    assertThat(bytes.tryTake(400)).isZero();
    assertThat(bytes.tryTake(1001)).as("more than the bucket holds").isEqualTo(Long.MAX_VALUE);
    assertThat(bytes.waitFor(1)).isPositive();
    assertThatThrownBy(() -> bytes.tryTake(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aRateLimiter_keepsOneBucketPerKey_andOffGrantsEverything() {
    RateLimiter<String> limiter = new RateLimiter<>(Rate.parse("2/m"), now::get, 10);
    assertThat(limiter.tryTake("ali", 1)).isZero();
    assertThat(limiter.tryTake("ali", 1)).isZero();
    assertThat(limiter.tryTake("ali", 1)).isPositive();
    assertThat(limiter.tryTake("bob", 1)).isZero();
    assertThat(limiter.waitFor("zara", 1)).as("an unknown key is a full bucket").isZero();
    assertThat(RateLimiter.retryAfterSeconds(limiter.waitFor("ali", 1))).isBetween(1L, 30L);
    now.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(limiter.tryTake("ali", 1)).isZero();

    RateLimiter<String> off = new RateLimiter<>(Rate.OFF);
    for (int i = 0; i < 10_000; i++) {
      assertThat(off.tryTake("ali", 1)).isZero();
    }
  }
}
