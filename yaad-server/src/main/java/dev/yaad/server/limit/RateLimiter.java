package dev.yaad.server.limit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * One {@link TokenBucket} per key (a user id, an API key, a client address), all of one
 * {@link Rate}. Memory stays bounded: a bucket not used for a whole period has refilled, so
 * it is forgotten then (it would start full again anyway), and at most {@code maxKeys} are
 * kept. With {@link Rate#OFF} every take is granted and nothing is kept. Thread-safe.
 *
 * @param <K> the key type
 */
public final class RateLimiter<K> {
  /** Keys kept at most; beyond it the least recently used buckets are forgotten first. */
  public static final long DEFAULT_MAX_KEYS = 100_000;

  private final Rate rate;
  private final LongSupplier nanoTime;
  private final Cache<K, TokenBucket> buckets;

  public RateLimiter(Rate rate) {
    this(rate, System::nanoTime, DEFAULT_MAX_KEYS);
  }

  public RateLimiter(Rate rate, LongSupplier nanoTime, long maxKeys) {
    this.rate = Objects.requireNonNull(rate, "rate");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.buckets = Caffeine.newBuilder()
        .maximumSize(maxKeys)
        .expireAfterAccess(rate.off() ? Duration.ofSeconds(1) : rate.period())
        .ticker(nanoTime::getAsLong)
        .build();
  }

  public Rate rate() {
    return rate;
  }

  /**
   * Takes {@code cost} from {@code key}'s bucket.
   *
   * @return 0 if granted; otherwise the nanoseconds until it would be (see {@link TokenBucket#tryTake})
   */
  public long tryTake(K key, long cost) {
    if (rate.off()) {
      return 0;
    }
    return buckets.get(key, k -> new TokenBucket(rate, nanoTime)).tryTake(cost);
  }

  /** How long until {@code key} could take {@code cost}, without taking anything; see {@link TokenBucket#waitFor}. */
  public long waitFor(K key, long cost) {
    if (rate.off()) {
      return 0;
    }
    TokenBucket bucket = buckets.getIfPresent(key);
    return bucket == null ? 0 : bucket.waitFor(cost);
  }

  /** Seconds to put in {@code Retry-After} for a wait of {@code nanos}: whole seconds, at least 1. */
  public static long retryAfterSeconds(long nanos) {
    if (nanos == Long.MAX_VALUE) {
      return Long.MAX_VALUE / 1_000_000_000L;
    }
    return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
  }
}
