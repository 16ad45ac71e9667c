package dev.yaad.memory.cache;

import dev.yaad.memory.Limits;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How {@link CachingMemoryStore} caches: the in-process tier (L1, Caffeine) always, and the
 * shared tier plus invalidation bus (L2, Redis) when {@code redisUrl} is set.
 *
 * <p>{@link #defaults()} is the embedded deployment: L1 only, which is correct for exactly one
 * server process per database. {@link #fromEnv()} adds Redis when {@code YAAD_REDIS_URL} is
 * set; every process sharing a database must then share the Redis too, since the invalidation
 * bus is what keeps the other processes' L1 fresh. Values are validated here, once; messages
 * name the field and the value.
 *
 * @param redisUrl              {@code redis://[:password@]host[:port][/db]} or {@code rediss://...};
 *                              {@code null} for L1 only
 * @param l1MaxWeightBytes      estimated heap the L1 may hold; 0 disables L1 (for measurements)
 * @param l1Ttl                 how long an L1 entry lives while invalidations can arrive
 * @param l1TtlWhileRedisDown   how long an L1 entry lives while Redis is configured but
 *                              unreachable, so invalidations from other processes cannot arrive:
 *                              the bound on how stale another process's write can look here
 * @param l2Ttl                 how long a user's entries live in Redis after their last fill
 * @param redisTimeout          the bound on every Redis command; a slower answer counts as Redis down
 * @param redisCheckInterval    how often Redis is pinged while up (to notice a hung server that
 *                              keeps its connections open) and retried while down
 * @param redisKeyPrefix        prefix of every Redis key and of the invalidation channel
 * @param preloadCategories     categories {@link CachingMemoryStore#preload} warms; empty means all
 * @param preloadPerCategory    memories per category {@link CachingMemoryStore#preload} warms
 * @param maxPendingInvalidations users whose Redis invalidation is remembered while Redis is down,
 *                              to replay on reconnect; beyond it every entry under the prefix is
 *                              dropped on reconnect instead
 */
public record CacheConfig(
    String redisUrl,
    long l1MaxWeightBytes,
    Duration l1Ttl,
    Duration l1TtlWhileRedisDown,
    Duration l2Ttl,
    Duration redisTimeout,
    Duration redisCheckInterval,
    String redisKeyPrefix,
    List<String> preloadCategories,
    int preloadPerCategory,
    int maxPendingInvalidations) {

  /** The environment variable that enables Redis: {@value}. */
  public static final String REDIS_URL_ENV = "YAAD_REDIS_URL";
  public static final long DEFAULT_L1_MAX_WEIGHT_BYTES = 64L * 1024 * 1024;
  public static final Duration DEFAULT_L1_TTL = Duration.ofMinutes(5);
  public static final Duration DEFAULT_L1_TTL_WHILE_REDIS_DOWN = Duration.ofSeconds(2);
  public static final Duration DEFAULT_L2_TTL = Duration.ofMinutes(30);
  public static final Duration DEFAULT_REDIS_TIMEOUT = Duration.ofMillis(100);
  public static final Duration DEFAULT_REDIS_CHECK_INTERVAL = Duration.ofMillis(500);
  public static final String DEFAULT_REDIS_KEY_PREFIX = "yaad:cache:";
  public static final int DEFAULT_MAX_PENDING_INVALIDATIONS = 10_000;

  public CacheConfig {
    if (redisUrl != null && redisUrl.isBlank()) {
      redisUrl = null;
    }
    if (redisUrl != null && !(redisUrl.startsWith("redis://") || redisUrl.startsWith("rediss://"))) {
      throw new IllegalArgumentException("redisUrl must start with redis:// or rediss:// (was '" + mask(redisUrl) + "')");
    }
    if (l1MaxWeightBytes < 0) {
      throw new IllegalArgumentException("l1MaxWeightBytes cannot be negative (was " + l1MaxWeightBytes + ")");
    }
    positive("l1Ttl", l1Ttl);
    positive("l1TtlWhileRedisDown", l1TtlWhileRedisDown);
    positive("l2Ttl", l2Ttl);
    positive("redisTimeout", redisTimeout);
    positive("redisCheckInterval", redisCheckInterval);
    if (l1TtlWhileRedisDown.compareTo(l1Ttl) > 0) {
      throw new IllegalArgumentException("l1TtlWhileRedisDown (" + l1TtlWhileRedisDown + ") cannot be longer than l1Ttl (" + l1Ttl + ")");
    }
    Objects.requireNonNull(redisKeyPrefix, "redisKeyPrefix");
    if (redisKeyPrefix.isEmpty() || redisKeyPrefix.contains("{") || redisKeyPrefix.contains("}")) {
      throw new IllegalArgumentException("redisKeyPrefix must be non-empty without { or } (was '" + redisKeyPrefix + "')");
    }
    preloadCategories = List.copyOf(Objects.requireNonNull(preloadCategories, "preloadCategories"));
    if (preloadPerCategory < 1 || preloadPerCategory > Limits.MAX_PER_CATEGORY) {
      throw new IllegalArgumentException("preloadPerCategory must be 1 to " + Limits.MAX_PER_CATEGORY + " (was " + preloadPerCategory + ")");
    }
    if (maxPendingInvalidations < 0) {
      throw new IllegalArgumentException("maxPendingInvalidations cannot be negative (was " + maxPendingInvalidations + ")");
    }
  }

  /** L1 only, every value at its default: the embedded deployment. */
  public static CacheConfig defaults() {
    return new CacheConfig(null, DEFAULT_L1_MAX_WEIGHT_BYTES, DEFAULT_L1_TTL, DEFAULT_L1_TTL_WHILE_REDIS_DOWN,
        DEFAULT_L2_TTL, DEFAULT_REDIS_TIMEOUT, DEFAULT_REDIS_CHECK_INTERVAL, DEFAULT_REDIS_KEY_PREFIX,
        List.of(), Limits.DEFAULT_PER_CATEGORY, DEFAULT_MAX_PENDING_INVALIDATIONS);
  }

  /** {@link #defaults()}, with Redis when {@value #REDIS_URL_ENV} is set and not blank. */
  public static CacheConfig fromEnv() {
    return defaults().withRedisUrl(System.getenv(REDIS_URL_ENV));
  }

  /** Whether L2 and the invalidation bus are on. */
  public boolean redisEnabled() {
    return redisUrl != null;
  }

  /** @param redisUrl {@code null} or blank for L1 only */
  public CacheConfig withRedisUrl(String redisUrl) {
    return new CacheConfig(redisUrl, l1MaxWeightBytes, l1Ttl, l1TtlWhileRedisDown, l2Ttl, redisTimeout,
        redisCheckInterval, redisKeyPrefix, preloadCategories, preloadPerCategory, maxPendingInvalidations);
  }

  public CacheConfig withL1MaxWeightBytes(long l1MaxWeightBytes) {
    return new CacheConfig(redisUrl, l1MaxWeightBytes, l1Ttl, l1TtlWhileRedisDown, l2Ttl, redisTimeout,
        redisCheckInterval, redisKeyPrefix, preloadCategories, preloadPerCategory, maxPendingInvalidations);
  }

  public CacheConfig withTtls(Duration l1Ttl, Duration l1TtlWhileRedisDown, Duration l2Ttl) {
    return new CacheConfig(redisUrl, l1MaxWeightBytes, l1Ttl, l1TtlWhileRedisDown, l2Ttl, redisTimeout,
        redisCheckInterval, redisKeyPrefix, preloadCategories, preloadPerCategory, maxPendingInvalidations);
  }

  public CacheConfig withRedisTimeouts(Duration redisTimeout, Duration redisCheckInterval) {
    return new CacheConfig(redisUrl, l1MaxWeightBytes, l1Ttl, l1TtlWhileRedisDown, l2Ttl, redisTimeout,
        redisCheckInterval, redisKeyPrefix, preloadCategories, preloadPerCategory, maxPendingInvalidations);
  }

  public CacheConfig withRedisKeyPrefix(String redisKeyPrefix) {
    return new CacheConfig(redisUrl, l1MaxWeightBytes, l1Ttl, l1TtlWhileRedisDown, l2Ttl, redisTimeout,
        redisCheckInterval, redisKeyPrefix, preloadCategories, preloadPerCategory, maxPendingInvalidations);
  }

  /** What {@link CachingMemoryStore#preload} warms: the agent's own snapshot request. */
  public CacheConfig withPreload(List<String> categories, int perCategory) {
    return new CacheConfig(redisUrl, l1MaxWeightBytes, l1Ttl, l1TtlWhileRedisDown, l2Ttl, redisTimeout,
        redisCheckInterval, redisKeyPrefix, categories, perCategory, maxPendingInvalidations);
  }

  public CacheConfig withMaxPendingInvalidations(int maxPendingInvalidations) {
    return new CacheConfig(redisUrl, l1MaxWeightBytes, l1Ttl, l1TtlWhileRedisDown, l2Ttl, redisTimeout,
        redisCheckInterval, redisKeyPrefix, preloadCategories, preloadPerCategory, maxPendingInvalidations);
  }

  /** The Redis URL with any password masked, for logs; {@code null} if Redis is off. */
  public String safeRedisUrl() {
    return redisUrl == null ? null : mask(redisUrl);
  }

  @Override
  public String toString() {
    return "CacheConfig[redis=" + (redisUrl == null ? "off" : safeRedisUrl()) + ", l1MaxWeightBytes=" + l1MaxWeightBytes
        + ", l1Ttl=" + l1Ttl + ", l1TtlWhileRedisDown=" + l1TtlWhileRedisDown + ", l2Ttl=" + l2Ttl
        + ", redisTimeout=" + redisTimeout + ", redisCheckInterval=" + redisCheckInterval
        + ", redisKeyPrefix=" + redisKeyPrefix + ", preload=" + (preloadCategories.isEmpty() ? "all" : preloadCategories)
        + "x" + preloadPerCategory + ", maxPendingInvalidations=" + maxPendingInvalidations + "]";
  }

  private static String mask(String url) {
    // redis://user:secret@host or redis://:secret@host -> the secret becomes ****
    return url.replaceAll("(?<=://)([^@/]*:)?[^@/:]*@", "$1****@");
  }

  private static void positive(String field, Duration value) {
    Objects.requireNonNull(value, field);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(field + " must be positive (was " + value + ")");
    }
  }
}
