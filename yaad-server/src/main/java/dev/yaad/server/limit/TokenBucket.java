package dev.yaad.server.limit;

import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * One token bucket for one {@link Rate}: it holds up to {@code rate.count()} tokens, starts
 * full, and refills continuously at {@code count} per {@code period}. A take costs what the
 * caller says it costs: 1 for a message or a request, the length for bytes, so one bucket
 * type serves text and binary frames alike. Thread-safe.
 */
public final class TokenBucket {
  private final Rate rate;
  private final LongSupplier nanoTime;
  private final double tokensPerNano;
  private double tokens;
  private long last;

  /**
   * @param rate     the limit; must not be {@link Rate#OFF}
   * @param nanoTime the clock ({@code System::nanoTime}; tests pass their own)
   */
  public TokenBucket(Rate rate, LongSupplier nanoTime) {
    this.rate = Objects.requireNonNull(rate, "rate");
    if (rate.off()) {
      throw new IllegalArgumentException("a token bucket needs a rate, not off");
    }
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.tokensPerNano = (double) rate.count() / rate.period().toNanos();
    this.tokens = rate.count();
    this.last = nanoTime.getAsLong();
  }

  public Rate rate() {
    return rate;
  }

  /**
   * Takes {@code cost} tokens if the bucket holds them.
   *
   * @param cost at least 1; a cost larger than the bucket is never granted
   * @return 0 if they were taken; otherwise the nanoseconds until they would be there
   *     ({@link Long#MAX_VALUE} for a cost larger than the bucket), nothing taken
   */
  public synchronized long tryTake(long cost) {
    if (cost < 1) {
      throw new IllegalArgumentException("cost cannot be less than 1 (was " + cost + ")");
    }
    long wait = waitFor(cost);
    if (wait == 0) {
      tokens -= cost;
    }
    return wait;
  }

  /**
   * How long until {@code cost} tokens are there, without taking any.
   *
   * @return 0 if they are there now; {@link Long#MAX_VALUE} for a cost larger than the bucket
   */
  public synchronized long waitFor(long cost) {
    refill();
    if (tokens >= cost) {
      return 0;
    }
    if (cost > rate.count()) {
      return Long.MAX_VALUE;
    }
    return Math.max(1, (long) Math.ceil((cost - tokens) / tokensPerNano));
  }

  private void refill() {
    long now = nanoTime.getAsLong();
    long elapsed = now - last;
    if (elapsed > 0) {
      tokens = Math.min(rate.count(), tokens + elapsed * tokensPerNano);
      last = now;
    }
  }
}
