package dev.yaad.memory.internal.cache;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.function.Supplier;

/**
 * The cache's meters, registered once so that the hot path only increments.
 *
 * <ul>
 *   <li>{@code yaad.cache.gets{level=l1|l2, result=hit|miss}}
 *   <li>{@code yaad.cache.invalidations{direction=sent|received}}: per user; a clear of every
 *       user counts under {@code yaad.cache.clears{reason=...}}
 *   <li>{@code yaad.cache.l2.fills{result=stored|stale|failed}}: {@code stale} is a fill refused
 *       because the user was invalidated while the value was loaded
 *   <li>{@code yaad.cache.redis.up} gauge (1 up, 0 down), {@code yaad.cache.redis.state.changes{to=up|down}},
 *       {@code yaad.cache.redis.errors} (failed or timed-out commands),
 *       {@code yaad.cache.redis.pending} gauge (invalidations waiting for Redis to come back)
 *   <li>{@code yaad.cache.l1.entries} gauge (users in L1)
 * </ul>
 */
final class CacheMetrics {
  final Counter l1Hit;
  final Counter l1Miss;
  final Counter l2Hit;
  final Counter l2Miss;
  final Counter sent;
  final Counter received;
  final Counter fillStored;
  final Counter fillStale;
  final Counter fillFailed;
  final Counter redisErrors;
  final Counter redisUp;
  final Counter redisDown;
  final Counter clearsRedisDown;
  final Counter clearsRedisUp;
  final Counter clearsRemote;
  /** Every snapshot read through the cache, whichever level answered: what callers wait for. */
  final Timer snapshot;
  private final MeterRegistry registry;

  CacheMetrics(MeterRegistry registry) {
    this.registry = registry;
    l1Hit = gets(registry, "l1", "hit");
    l1Miss = gets(registry, "l1", "miss");
    l2Hit = gets(registry, "l2", "hit");
    l2Miss = gets(registry, "l2", "miss");
    sent = Counter.builder("yaad.cache.invalidations").tag("direction", "sent").register(registry);
    received = Counter.builder("yaad.cache.invalidations").tag("direction", "received").register(registry);
    fillStored = fills(registry, "stored");
    fillStale = fills(registry, "stale");
    fillFailed = fills(registry, "failed");
    redisErrors = Counter.builder("yaad.cache.redis.errors").description("failed or timed-out Redis commands").register(registry);
    redisUp = Counter.builder("yaad.cache.redis.state.changes").tag("to", "up").register(registry);
    redisDown = Counter.builder("yaad.cache.redis.state.changes").tag("to", "down").register(registry);
    clearsRedisDown = clears(registry, "redis-down");
    clearsRedisUp = clears(registry, "redis-up");
    clearsRemote = clears(registry, "remote");
    snapshot = Timer.builder("yaad.memory.snapshot").description("snapshot reads, cache hits included")
        .publishPercentileHistogram().register(registry);
  }

  void gauge(String name, Supplier<Number> value) {
    Gauge.builder(name, value).register(registry);
  }

  private static Counter gets(MeterRegistry registry, String level, String result) {
    return Counter.builder("yaad.cache.gets").tag("level", level).tag("result", result).register(registry);
  }

  private static Counter fills(MeterRegistry registry, String result) {
    return Counter.builder("yaad.cache.l2.fills").tag("result", result).register(registry);
  }

  private static Counter clears(MeterRegistry registry, String reason) {
    return Counter.builder("yaad.cache.clears").tag("reason", reason).register(registry);
  }
}
