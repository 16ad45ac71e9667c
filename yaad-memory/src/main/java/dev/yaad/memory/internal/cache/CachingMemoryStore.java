package dev.yaad.memory.internal.cache;

import dev.yaad.memory.Categories;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.StoreUnavailableException;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.Embedding;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.internal.store.UserState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link MemoryStore} that caches snapshots and profiles in front of another store: in
 * process (L1, Caffeine, bounded by weight, with expiry) and, when Redis is configured, in
 * Redis shared by every server process (L2), which also carries invalidations between processes.
 *
 * <p><b>Reads.</b> {@link #snapshot} and {@link #profile} read through L1, then L2, then the
 * store; a snapshot load also caches the profile it contains. {@link #get}, {@link #list} and
 * {@link #categories} are not cached. A user who does not exist is not cached either, and a
 * failure of the store reaches the caller unchanged. Cached values are shared between callers
 * and unmodifiable.
 *
 * <p><b>Writes and consistency.</b> Every write delegates, then invalidates the user: L2 and
 * the other processes first (one atomic Redis script, bounded by {@code redisTimeout}), then
 * L1, then the {@linkplain #onInvalidate listeners}. When a write returns, no cache tier of
 * this process and no L2 entry holds data older than the write, even if a read of that user
 * was loading concurrently: loads are installed only if the user's generation is still the one
 * read before the load began (see {@code LocalTier} and {@code RedisTier}). Another process
 * sees the write once the invalidation has reached it over Redis pub/sub (typically well
 * under a millisecond). A write that fails with invalid input, not-found or conflict wrote
 * nothing and invalidates nothing; one that fails with {@link StoreUnavailableException} might
 * have committed, so it invalidates.
 *
 * <p><b>Redis faults.</b> Redis unreachable, hung or slow never fails a call: each command
 * waits at most {@code redisTimeout}, after which Redis counts as down (one WARN line) and
 * nothing waits on it until it answers again. While down, L1 is cleared and its entries live
 * only {@code l1TtlWhileRedisDown}, since other processes' invalidations cannot arrive;
 * invalidations of this process's writes are remembered and replayed on reconnect; L1 is
 * cleared again before Redis is used (one INFO line). The cache reconnects and resubscribes
 * by itself.
 *
 * <p><b>Other per-user state</b> (the search index) is dropped by the same mechanism:
 * {@code Memories} registers it with {@link #onInvalidate} and {@link #onInvalidateAll} (guard
 * lazy loads with {@link #generation}). {@link #preload} warms the snapshot at call start and
 * then runs the {@link #onPreload} hooks (the search state) in the background. Concurrent
 * misses of the same request share one load, unless the user was invalidated after it began.
 *
 * <p>Thread-safe. {@link #close} closes the Redis connections and the wrapped store.
 */
public final class CachingMemoryStore implements MemoryStore {
  private static final Logger log = LoggerFactory.getLogger(CachingMemoryStore.class);

  private final MemoryStore store;
  private final CacheConfig config;
  private final CacheMetrics metrics;
  private final LocalTier local;
  private final RedisTier redis; // null when Redis is not configured
  private final long l1TtlNanos;
  private final long l1TtlWhileDownNanos;
  private final List<Consumer<String>> invalidateListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> invalidateAllListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> preloadHooks = new CopyOnWriteArrayList<>();
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  private final ConcurrentHashMap<Load, Load> loads = new ConcurrentHashMap<>();

  private CachingMemoryStore(MemoryStore store, CacheConfig config, MeterRegistry registry) {
    this.store = Objects.requireNonNull(store, "store");
    this.config = Objects.requireNonNull(config, "config");
    this.metrics = new CacheMetrics(Objects.requireNonNull(registry, "registry"));
    this.local = new LocalTier(config.l1MaxWeightBytes());
    this.l1TtlNanos = config.l1Ttl().toNanos();
    this.l1TtlWhileDownNanos = config.l1TtlWhileRedisDown().toNanos();
    metrics.gauge("yaad.cache.l1.entries", local::estimatedSize);
    log.info("cache: L1 {}, L2 {}", local.enabled() ? "up to " + config.l1MaxWeightBytes() / (1024 * 1024) + " MiB for " + config.l1Ttl() : "off",
        config.redisEnabled() ? "on Redis " + config.safeRedisUrl() : "off (no " + CacheConfig.REDIS_URL_ENV + ")");
    log.debug("cache: {}", config);
    this.redis = config.redisEnabled() ? new RedisTier(config, new RedisEvents(), metrics) : null;
  }

  /** Caches {@code store} as {@code config} says, with meters in a registry of its own. */
  public static CachingMemoryStore create(MemoryStore store, CacheConfig config) {
    return create(store, config, new SimpleMeterRegistry());
  }

  /**
   * Caches {@code store} as {@code config} says. With Redis configured this connects before it
   * returns (for at most about a second when Redis does not answer; the cache then starts
   * without it and keeps trying).
   *
   * @param registry where the {@code yaad.cache.*} meters go; one cache per registry
   */
  public static CachingMemoryStore create(MemoryStore store, CacheConfig config, MeterRegistry registry) {
    return new CachingMemoryStore(store, config, registry);
  }

  /** The configuration in effect. */
  public CacheConfig config() {
    return config;
  }

  /**
   * How old per-user state derived from the store (the search index) may grow without an
   * invalidation, in nanoseconds: unbounded while invalidations arrive (Redis up, or no Redis:
   * one process), and while Redis is configured but down the bound snapshots have then
   * ({@code l1TtlWhileRedisDown}), since other processes' writes cannot be heard of.
   */
  public long stateMaxAgeNanos() {
    return redis == null || redis.up() ? Long.MAX_VALUE : l1TtlWhileDownNanos;
  }

  /** Whether Redis is configured and currently answering. */
  public boolean redisUp() {
    return redis != null && redis.up();
  }

  // ---- cached reads ----

  @Override
  public Snapshot snapshot(String userId, List<String> categories, int perCategory) {
    long start = System.nanoTime();
    try {
      return cachedSnapshot(userId, categories, perCategory);
    } finally {
      metrics.snapshot.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }

  private Snapshot cachedSnapshot(String userId, List<String> categories, int perCategory) {
    if (userId == null || categories == null) {
      return store.snapshot(userId, categories, perCategory); // the store reports the bad input
    }
    SnapshotKey key = new SnapshotKey(categories, perCategory);
    Snapshot cached = local.snapshot(userId, key);
    if (cached != null) {
      metrics.l1Hit.increment();
      return cached;
    }
    metrics.l1Miss.increment();
    for (String category : categories) {
      if (category == null) {
        return store.snapshot(userId, categories, perCategory); // the store reports the bad input
      }
    }
    return loadSnapshot(userId, key.stored());
  }

  @Override
  public Profile profile(String userId) {
    if (userId == null) {
      return store.profile(null);
    }
    Profile cached = local.profile(userId);
    if (cached != null) {
      metrics.l1Hit.increment();
      return cached;
    }
    metrics.l1Miss.increment();
    long generation = local.generation(userId); // before any tier below is read
    RedisTier.Lookup l2 = redis == null ? null : redis.get(userId, CacheCodec.PROFILE_FIELD);
    if (l2 != null) {
      Profile profile = decode(l2.value(), json -> CacheCodec.profile(userId, json));
      if (profile != null) {
        metrics.l2Hit.increment();
        local.put(userId, generation, null, null, profile, l1Ttl());
        return profile;
      }
      metrics.l2Miss.increment();
    }
    Profile profile = store.profile(userId);
    local.put(userId, generation, null, null, profile, l1Ttl());
    if (l2 != null) {
      redis.fill(userId, l2.generation(), CacheCodec.PROFILE_FIELD, CacheCodec.write(profile));
    }
    return profile;
  }

  /**
   * Loads a snapshot on an L1 miss; concurrent misses of the same request share one load (at
   * call start the preload and the greeting ask at once), unless the user was invalidated
   * after that load began: a read that starts after a write returned never gets data from
   * before it.
   */
  private Snapshot loadSnapshot(String userId, SnapshotKey key) {
    long generation = local.generation(userId); // before any tier below is read
    Load load = new Load(userId, key, generation);
    Load running = loads.putIfAbsent(load, load);
    if (running != null && running.generation == generation) {
      return running.join();
    }
    if (running != null) {
      return loadSnapshot(userId, key, generation); // a load from before an invalidation: not for us
    }
    try {
      Snapshot snapshot = loadSnapshot(userId, key, generation);
      load.complete(snapshot);
      return snapshot;
    } catch (RuntimeException | Error e) {
      load.completeExceptionally(e);
      throw e;
    } finally {
      loads.remove(load, load);
    }
  }

  private Snapshot loadSnapshot(String userId, SnapshotKey key, long generation) {
    RedisTier.Lookup l2 = redis == null ? null : redis.get(userId, key.field());
    if (l2 != null) {
      Snapshot snapshot = decode(l2.value(), CacheCodec::snapshot);
      if (snapshot != null) {
        metrics.l2Hit.increment();
        local.put(userId, generation, key, snapshot, snapshot.profile(), l1Ttl());
        return snapshot;
      }
      metrics.l2Miss.increment();
    }
    Snapshot snapshot = CacheCodec.freeze(store.snapshot(userId, key.categories(), key.perCategory()));
    local.put(userId, generation, key, snapshot, snapshot.profile(), l1Ttl());
    if (l2 != null) {
      redis.fill(userId, l2.generation(), key.field(), CacheCodec.write(snapshot),
          CacheCodec.PROFILE_FIELD, CacheCodec.write(snapshot.profile()));
    }
    return snapshot;
  }

  private long l1Ttl() {
    return redis == null || redis.up() ? l1TtlNanos : l1TtlWhileDownNanos;
  }

  @FunctionalInterface
  private interface Decoder<T> {
    T decode(String json) throws IOException;
  }

  private static <T> T decode(String json, Decoder<T> decoder) {
    if (json == null) {
      return null;
    }
    try {
      return decoder.decode(json);
    } catch (IOException | RuntimeException e) {
      log.warn("cache: ignoring an L2 value that does not decode ({}); loading from the store", e.toString());
      return null;
    }
  }

  // ---- uncached reads ----

  @Override
  public Categories categories() {
    return store.categories();
  }

  @Override
  public Memory get(String userId, UUID id) {
    return store.get(userId, id);
  }

  @Override
  public Page<Memory> list(String userId, String category, int limit, String cursor) {
    return store.list(userId, category, limit, cursor);
  }

  @Override
  public List<EmbeddedMemory> embeddedMemories(String userId) {
    return store.embeddedMemories(userId);
  }

  @Override
  public List<EmbeddedMemory> staleEmbeddings(String modelId, UUID afterId, int limit) {
    return store.staleEmbeddings(modelId, afterId, limit);
  }

  // ---- writes ----

  @Override
  public void delete(String userId, UUID id) {
    invalidatingAfter(userId, () -> {
      store.delete(userId, id);
      return null;
    });
  }

  @Override
  public void deleteUser(String userId) {
    invalidatingAfter(userId, () -> {
      store.deleteUser(userId);
      return null;
    });
  }

  @Override
  public Profile putProfile(String userId, String content, Long expectedVersion, Instant begunAt) {
    return invalidatingAfter(userId, () -> store.putProfile(userId, content, expectedVersion, begunAt));
  }

  /** A refused write (stale, or its user deleted) wrote nothing and invalidates nothing. */
  @Override
  public List<Memory> write(String userId, List<MemoryWrite> writes, UserState seen, Instant begunAt) {
    return invalidatingAfter(userId, () -> store.write(userId, writes, seen, begunAt));
  }

  @Override
  public List<Memory> restore(String userId, List<Memory> memories, List<Embedding> embeddings, Profile profile) {
    return invalidatingAfter(userId, () -> store.restore(userId, memories, embeddings, profile));
  }

  /**
   * Snapshots hold no embeddings, but every process's search index does: each user named is
   * invalidated (once) when anything changed, so the bus carries the news to all of them.
   */
  @Override
  public int putEmbeddings(List<EmbeddedMemory> embeddings) {
    int changed = store.putEmbeddings(embeddings);
    if (changed > 0) {
      embeddings.stream().map(e -> e.memory().userId()).distinct().forEach(this::invalidate);
    }
    return changed;
  }

  private <T> T invalidatingAfter(String userId, Supplier<T> write) {
    T result;
    try {
      result = write.get();
    } catch (StoreUnavailableException e) {
      if (userId != null) {
        invalidate(userId); // the write may have committed before the failure was seen
      }
      throw e;
    }
    invalidate(userId);
    return result;
  }

  // ---- invalidation, preload ----

  /**
   * Drops the user's cached values here, in L2 and in every other process, and notifies the
   * {@linkplain #onInvalidate listeners} here and there. Writes through this store call it
   * themselves; call it after changing a user's data by any other way.
   *
   * @throws InvalidInputException if {@code userId} is {@code null}
   */
  public void invalidate(String userId) {
    if (userId == null) {
      throw new InvalidInputException("userId is required");
    }
    if (redis != null) {
      redis.invalidate(userId); // L2 before L1: see the class comment of RedisTier
    }
    local.invalidate(userId);
    metrics.sent.increment();
    notifyInvalidate(userId);
  }

  /**
   * Calls {@code listener} with the user id whenever that user's data changes, here or in
   * another process. Called on the writing thread or on a Redis I/O thread: it must be quick
   * and must not block (drop state; rebuild it lazily).
   */
  public void onInvalidate(Consumer<String> listener) {
    invalidateListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Calls {@code listener} when every user's state must be dropped: when Redis goes down or
   * comes back (invalidations from other processes may have been missed) or when another
   * process asks for it. Same threading rules as {@link #onInvalidate}.
   */
  public void onInvalidateAll(Runnable listener) {
    invalidateAllListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Calls {@code hook} with the user id, on a background virtual thread, after each
   * {@link #preload} of that user: the place to warm other per-user state lazily.
   */
  public void onPreload(Consumer<String> hook) {
    preloadHooks.add(Objects.requireNonNull(hook, "hook"));
  }

  /**
   * A number that changes whenever the user is invalidated (and sometimes when another user
   * is). For other per-user state: read it before loading, and install what was loaded only if
   * it is unchanged, so that a load racing a write never installs stale state.
   */
  public long generation(String userId) {
    return local.generation(Objects.requireNonNull(userId, "userId"));
  }

  /**
   * Warms the cache at the start of a conversation: the snapshot the agent asks for
   * ({@code preloadCategories} x {@code preloadPerCategory}, with the profile), loaded now,
   * then the {@link #onPreload} hooks in the background.
   *
   * @return the snapshot, or empty if the user does not exist yet
   * @throws StoreUnavailableException if the store cannot be read
   */
  public Optional<Snapshot> preload(String userId) {
    Optional<Snapshot> snapshot;
    try {
      snapshot = Optional.of(snapshot(userId, config.preloadCategories(), config.preloadPerCategory()));
    } catch (NotFoundException e) {
      snapshot = Optional.empty();
    }
    for (Consumer<String> hook : preloadHooks) {
      background.execute(() -> {
        try {
          hook.accept(userId);
        } catch (RuntimeException e) {
          log.warn("cache: preload hook failed for user '{}': {}", userId, e.toString());
        }
      });
    }
    return snapshot;
  }

  /**
   * {@link #preload} on a background virtual thread, for callers that must not wait (the
   * agent's session start). A snapshot read of the same user while it runs waits for it
   * rather than querying again.
   */
  public CompletableFuture<Optional<Snapshot>> preloadAsync(String userId) {
    return CompletableFuture.supplyAsync(() -> preload(userId), background);
  }

  /** Closes Redis, the background threads and the wrapped store. */
  @Override
  public void close() {
    try {
      if (redis != null) {
        redis.close();
      }
      background.shutdownNow();
    } finally {
      store.close();
    }
  }

  /** Waits until every L2 fill has been answered; for tests. */
  boolean awaitFills(Duration timeout) throws InterruptedException {
    return redis == null || redis.awaitFills(timeout);
  }

  private void notifyInvalidate(String userId) {
    for (Consumer<String> listener : invalidateListeners) {
      try {
        listener.accept(userId);
      } catch (RuntimeException e) {
        log.warn("cache: invalidation listener failed for user '{}': {}", userId, e.toString());
      }
    }
  }

  private void invalidateAllLocally() {
    local.invalidateAll();
    for (Runnable listener : invalidateAllListeners) {
      try {
        listener.run();
      } catch (RuntimeException e) {
        log.warn("cache: invalidate-all listener failed: {}", e.toString());
      }
    }
  }

  /**
   * A snapshot load in flight, found by user and request (equality ignores the generation and
   * the result); the generation says which invalidation it began after.
   */
  private static final class Load extends CompletableFuture<Snapshot> {
    final String userId;
    final SnapshotKey key;
    final long generation;

    Load(String userId, SnapshotKey key, long generation) {
      this.userId = userId;
      this.key = key;
      this.generation = generation;
    }

    @Override
    public Snapshot join() {
      try {
        return super.join();
      } catch (CompletionException e) {
        if (e.getCause() instanceof RuntimeException cause) {
          throw cause; // the store's own exception (not found, unavailable...), as the loader saw it
        }
        throw e;
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Load other && userId.equals(other.userId) && key.equals(other.key);
    }

    @Override
    public int hashCode() {
      return 31 * userId.hashCode() + key.hashCode();
    }
  }

  private final class RedisEvents implements RedisTier.Events {
    @Override
    public void remoteInvalidate(String userId) {
      local.invalidate(userId);
      metrics.received.increment();
      notifyInvalidate(userId);
    }

    @Override
    public void remoteInvalidateAll() {
      invalidateAllLocally();
      metrics.clearsRemote.increment(); // after: a clear counted is a clear done
    }

    @Override
    public void redisDown() {
      invalidateAllLocally();
      metrics.clearsRedisDown.increment(); // after: a clear counted is a clear done
    }

    @Override
    public void redisUp() {
      invalidateAllLocally();
      metrics.clearsRedisUp.increment(); // after: a clear counted is a clear done
    }
  }
}
