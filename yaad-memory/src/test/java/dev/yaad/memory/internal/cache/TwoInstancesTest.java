package dev.yaad.memory.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.AddResult;
import dev.yaad.memory.Memories;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.search.SearchRequest;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Await;
import dev.yaad.memory.testing.Services;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.testing.RedisProcess;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two memory front doors ({@code Memories}, as two server instances have) on one PostgreSQL
 * schema: what one writes, the other must see and must not duplicate, with Redis and without.
 */
class TwoInstancesTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  StoreConfig storeConfig;
  final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void schema() {
    storeConfig = TestStores.postgres();
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : toClose.reversed()) {
      c.close();
    }
    TestStores.dropSchema(storeConfig);
  }

  Memories instance(CacheConfig cache) {
    Memories memories = Memories.builder().store(storeConfig).cache(cache).embedder(OnnxEmbedder.shared()).build();
    toClose.add(memories);
    return memories;
  }

  static boolean finds(Memories memories, String user, String query, String content) {
    return memories.search(user, SearchRequest.of(query, 5)).stream().anyMatch(h -> h.memory().content().equals(content));
  }

  @Test
  void searchIndex_duringARedisOutage_isNoStalerThanSnapshots() throws Exception {
    RedisProcess redis = Services.ownRedis();
    toClose.add(redis);
    CacheConfig cache = CacheConfig.defaults().withRedisUrl(redis.url())
        .withRedisTimeouts(Duration.ofMillis(200), Duration.ofMillis(100))
        .withTtls(Duration.ofMinutes(5), Duration.ofMillis(500), Duration.ofMinutes(5));
    Memories a = instance(cache);
    Memories b = instance(cache);
    Await.until(() -> a.redisUp() && b.redisUp(), WAIT, "both on Redis");
    String user = "u-" + UUID.randomUUID();
    a.add(user, NewMemory.of("INTEREST", "I play the violin in an orchestra"));
    Await.until(() -> finds(b, user, "violin", "I play the violin in an orchestra"), WAIT, "B sees A's write over Redis");

    redis.kill();
    Await.until(() -> !a.redisUp() && !b.redisUp(), WAIT, "both know Redis is down");
    assertThat(finds(b, user, "violin", "I play the violin in an orchestra")).isTrue(); // B's index, loaded in the outage
    a.add(user, NewMemory.of("FACT", "My cousin Hamza studies medicine in Multan"));

    // No invalidation can reach B now: its index is reloaded once older than the snapshots' bound (500 ms).
    Await.until(() -> finds(b, user, "Hamza medicine", "My cousin Hamza studies medicine in Multan"), WAIT,
        "B sees A's write during the outage");
  }

  @Test
  void sameFactFromTwoInstancesAtOnce_isStoredOnce() throws Exception {
    // No Redis: B never hears of A's writes, the widest window for a duplicate.
    Memories a = instance(CacheConfig.defaults());
    Memories b = instance(CacheConfig.defaults());
    String user = "u-" + UUID.randomUUID();
    a.add(user, NewMemory.of("FACT", "I work as a nurse")); // the user exists; both indexes load it
    a.search(user, SearchRequest.of("nurse", 1));
    b.search(user, SearchRequest.of("nurse", 1));

    int threads = 8;
    CountDownLatch go = new CountDownLatch(1);
    List<Future<AddResult>> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      for (int t = 0; t < threads; t++) {
        Memories instance = t % 2 == 0 ? a : b;
        String text = t % 4 < 2 ? "My brother Bilal lives in Dubai" : "my brother Bilal lives in Dubai.";
        results.add(pool.submit(() -> {
          go.await();
          return instance.add(user, NewMemory.of("FACT", text));
        }));
      }
      go.countDown();
      for (Future<AddResult> f : results) {
        f.get();
      }
    }
    assertThat(results.stream().filter(f -> f.resultNow().outcome() == AddResult.Outcome.ADDED)).hasSize(1);
    assertThat(a.list(user, "FACT", 20, null).items()).extracting(m -> m.content().toLowerCase())
        .filteredOn(c -> c.contains("bilal")).hasSize(1);
  }

  @Test
  void deDuplicatingWrite_waitsForTheUsersLock_theOneItsDeletionTakes() throws Exception {
    Memories a = instance(CacheConfig.defaults());
    String user = "u-" + UUID.randomUUID();
    a.add(user, NewMemory.of("FACT", "I work as a nurse"));
    long key = JdbcMemoryStore.userLockKey(user);
    try (Connection holder = DriverManager.getConnection(storeConfig.jdbcUrl(), storeConfig.username(), storeConfig.password())) {
      // One lock per user: a de-duplicating write and a deletion both wait for it.
      holder.setAutoCommit(false);
      try (PreparedStatement lock = holder.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
        lock.setLong(1, key);
        lock.executeQuery().close();
      }
      CompletableFuture<AddResult> add = CompletableFuture.supplyAsync(() -> a.add(user, NewMemory.of("FACT", "I play cricket on Fridays")));
      Await.until(() -> waitersOn(holder, key) == 1, WAIT, "the write waiting for the user's lock");
      assertThat(add).isNotDone();
      holder.rollback();
      assertThat(add.get().outcome()).isEqualTo(AddResult.Outcome.ADDED);

      try (PreparedStatement lock = holder.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
        lock.setLong(1, key);
        lock.executeQuery().close();
      }
      CompletableFuture<Void> deletion = CompletableFuture.runAsync(() -> a.deleteUser(user));
      Await.until(() -> waitersOn(holder, key) == 1, WAIT, "the deletion waiting for the same lock");
      assertThat(deletion).isNotDone();
      holder.rollback();
      deletion.get();
    }
    assertThatThrownBy(() -> a.list(user, null, 20, null)).isInstanceOf(NotFoundException.class);
  }

  /** Sessions waiting for the advisory lock {@code key} ({@code pg_advisory_xact_lock(bigint)}). */
  private static long waitersOn(Connection c, long key) {
    try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        + " AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1")) {
      ps.setLong(1, key >>> 32);
      ps.setLong(2, key & 0xFFFFFFFFL);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
