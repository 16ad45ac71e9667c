package dev.yaad.memory.internal.cache;

import static dev.yaad.memory.internal.cache.EmbeddedCacheTest.contents;
import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.internal.store.TestWrites;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Services;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.testing.RedisProcess;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Redis killed, hung and brought back under two running cache instances: callers never see an
 * error, nothing stale survives, and everything resumes by itself.
 */
class RedisFaultCacheTest {
  static final List<String> ALL = List.of();
  /**
   * Long enough that a healthy command never reaches it on a loaded machine (each one that did
   * counted an error, and three in a row marked Redis down), short enough for a quick test.
   */
  static final Duration TIMEOUT = Duration.ofSeconds(1);
  static final Duration CHECK = Duration.ofMillis(100);
  static StoreConfig storeConfig;
  static MemoryStore database;

  RedisProcess redis;
  CacheConfig config;
  final List<CachingMemoryStore> opened = new ArrayList<>();

  record Instance(CachingMemoryStore cache, SimpleMeterRegistry registry, BlockingQueue<String> heard) {
    double count(String name, String... tags) {
      return registry.get(name).tags(tags).counter().count();
    }

    double gauge(String name) {
      return registry.get(name).gauge().value();
    }
  }

  @BeforeAll
  static void open() {
    storeConfig = TestStores.postgres();
    database = JdbcMemoryStore.open(storeConfig);
  }

  @AfterAll
  static void close() {
    if (database != null) {
      database.close();
    }
    TestStores.dropSchema(storeConfig);
  }

  @BeforeEach
  void startRedis() throws Exception {
    redis = Services.ownRedis();
    config = CacheConfig.defaults().withRedisUrl(redis.url())
        .withRedisTimeouts(TIMEOUT, CHECK)
        .withTtls(Duration.ofMinutes(5), Duration.ofMillis(300), Duration.ofMinutes(5));
  }

  @AfterEach
  void stopRedis() throws Exception {
    opened.forEach(CachingMemoryStore::close);
    redis.close();
  }

  Instance instance() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CachingMemoryStore cache = CachingMemoryStore.create(new ProbeStore(database, false), config, registry);
    opened.add(cache);
    BlockingQueue<String> heard = new LinkedBlockingQueue<>();
    cache.onInvalidate(heard::add);
    RedisCacheTest.awaitUp(cache);
    return new Instance(cache, registry, heard);
  }

  static String newUser() {
    String user = "u-" + UUID.randomUUID();
    TestWrites.insert(database, user, NewMemory.of("FACT", "lives in Lahore"));
    return user;
  }

  static void await(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
    dev.yaad.memory.testing.Await.until(condition, within, what);
  }

  /**
   * A write that waits on the broken Redis only for its few attempts, each bounded by the timeout
   * (the margin is for a loaded machine, not for Redis).
   */
  static Memory timedAdd(Instance instance, String user, String content) {
    long start = System.nanoTime();
    Memory memory = TestWrites.insert(instance.cache(), user, NewMemory.of("FACT", content));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("write time with Redis broken")
        .isLessThan(TIMEOUT.multipliedBy(RedisTier.FAILURES_BEFORE_DOWN).plusSeconds(20));
    return memory;
  }

  /**
   * A session closed in the middle of a saveMemory, or a stopping learner, interrupts the thread
   * whose write has just committed (Future.cancel(true)). Its invalidation must still go out, and
   * the interrupt is the caller's, not a Redis failure: before the fix, Lettuce's three immediate
   * "Command interrupted" marked Redis down for the whole process, cleared L1 and logged a WARN.
   */
  @Test
  void anInterruptedWriter_stillInvalidates_andDoesNotMarkRedisDown() throws Exception {
    Instance a = instance();
    Instance b = instance();
    String user = newUser();
    b.cache().snapshot(user, ALL, 5);
    Memory written = TestWrites.insert(database, user, NewMemory.of("FACT", "written just before the interrupt"));
    b.heard().clear();

    Thread.currentThread().interrupt();
    try {
      a.cache().invalidate(user);
    } finally {
      assertThat(Thread.interrupted()).as("the interrupt is left for the caller").isTrue();
    }
    assertThat(a.cache().redisUp()).isTrue();
    assertThat(a.count("yaad.cache.redis.state.changes", "to", "down")).isZero();
    assertThat(b.heard().poll(30, TimeUnit.SECONDS)).as("B hears the invalidation").isEqualTo(user);
    assertThat(contents(b.cache().snapshot(user, ALL, 5))).contains(written.content());
  }

  @Test
  void hungRedis_servesFromTheDatabase_thenReplaysTheMissedInvalidations() throws Exception {
    Instance a = instance();
    Instance b = instance();
    String user = newUser();
    a.cache().snapshot(user, ALL, 5);
    assertThat(a.cache().awaitFills(Duration.ofSeconds(30))).isTrue();
    b.cache().snapshot(user, ALL, 5); // L2 hit: both L1s and L2 hold the snapshot

    redis.hang();
    Memory whileHung = timedAdd(a, user, "written while Redis hung"); // its invalidation fails three times: down
    assertThat(a.cache().redisUp()).isFalse();
    assertThat(contents(a.cache().snapshot(user, ALL, 5))).contains(whileHung.content());
    // B hears nothing, but its health check notices within three checks and clears L1.
    await("B notices Redis hung and clears L1", Duration.ofSeconds(30),
        () -> b.count("yaad.cache.clears", "reason", "redis-down") == 1);
    assertThat(contents(b.cache().snapshot(user, ALL, 5))).contains(whileHung.content());
    assertThat(b.gauge("yaad.cache.redis.up")).isZero();
    assertThat(a.gauge("yaad.cache.redis.pending")).isEqualTo(1);

    redis.resume(); // L2 still holds the snapshot from before the write
    await("both back up", Duration.ofSeconds(30), () -> a.cache().redisUp() && b.cache().redisUp());
    assertThat(a.gauge("yaad.cache.redis.pending")).isZero();
    Instance c = instance(); // empty L1: sees exactly what L2 holds
    assertThat(contents(c.cache().snapshot(user, ALL, 5))).contains(whileHung.content());

    Memory after = TestWrites.insert(a.cache(), user, NewMemory.of("FACT", "written after Redis came back"));
    await("B hears the write", Duration.ofSeconds(30), () -> b.heard().contains(user));
    assertThat(contents(b.cache().snapshot(user, ALL, 5))).contains(after.content());
    for (Instance i : List.of(a, b)) {
      assertThat(i.count("yaad.cache.redis.state.changes", "to", "down")).isEqualTo(1);
      assertThat(i.count("yaad.cache.redis.state.changes", "to", "up")).isEqualTo(1);
    }
  }

  @Test
  void killedRedis_servesFromTheDatabase_thenResumesByItself() throws Exception {
    Instance a = instance();
    Instance b = instance();
    String user = newUser();
    a.cache().snapshot(user, ALL, 5);
    assertThat(a.cache().awaitFills(Duration.ofSeconds(30))).isTrue();
    b.cache().snapshot(user, ALL, 5);

    redis.kill();
    await("both notice Redis gone and clear L1", Duration.ofSeconds(30),
        () -> a.count("yaad.cache.clears", "reason", "redis-down") == 1 && b.count("yaad.cache.clears", "reason", "redis-down") == 1);
    Memory whileDown = timedAdd(a, user, "written while Redis was down");
    assertThat(contents(a.cache().snapshot(user, ALL, 5))).contains(whileDown.content());
    assertThat(contents(b.cache().snapshot(user, ALL, 5))).contains(whileDown.content());
    // While down, B's L1 entries live 300 ms: a write on A shows on B within that, without the bus.
    Memory second = timedAdd(a, user, "second write while down");
    await("B sees A's write through its short L1 TTL", Duration.ofSeconds(30),
        () -> contents(b.cache().snapshot(user, ALL, 5)).contains(second.content()));

    redis.restart();
    await("both back up", Duration.ofSeconds(30), () -> a.cache().redisUp() && b.cache().redisUp());
    b.cache().snapshot(user, ALL, 5);
    b.heard().clear();
    Memory after = TestWrites.insert(a.cache(), user, NewMemory.of("FACT", "written after the restart"));
    await("B hears the write over the resubscribed bus", Duration.ofSeconds(30), () -> b.heard().contains(user));
    assertThat(contents(b.cache().snapshot(user, ALL, 5))).contains(after.content());
    for (Instance i : List.of(a, b)) {
      assertThat(i.count("yaad.cache.redis.state.changes", "to", "down")).isEqualTo(1);
      assertThat(i.count("yaad.cache.redis.state.changes", "to", "up")).isEqualTo(1);
      assertThat(i.gauge("yaad.cache.redis.up")).isEqualTo(1);
    }
  }

  @Test
  void redisUnreachableAtStart_startsWithoutIt_andPicksItUpLater() throws Exception {
    redis.kill();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CachingMemoryStore cache = CachingMemoryStore.create(new ProbeStore(database, false), config, registry);
    opened.add(cache);
    assertThat(cache.redisUp()).isFalse();
    String user = newUser();
    assertThat(contents(cache.snapshot(user, ALL, 5))).containsExactly("lives in Lahore");
    TestWrites.insert(cache, user, NewMemory.of("FACT", "while Redis never was"));

    redis.restart();
    await("Redis picked up", Duration.ofSeconds(30), cache::redisUp);
    assertThat(contents(cache.snapshot(user, ALL, 5))).contains("while Redis never was");
    assertThat(registry.get("yaad.cache.redis.state.changes").tags("to", "up").counter().count()).isEqualTo(1);
  }

  @Test
  void tooManyMissedInvalidations_dropEveryL2EntryOnReconnect() throws Exception {
    config = config.withMaxPendingInvalidations(1);
    Instance a = instance();
    Instance b = instance();
    String first = newUser();
    String second = newUser();
    for (String user : List.of(first, second)) {
      a.cache().snapshot(user, ALL, 5);
    }
    assertThat(a.cache().awaitFills(Duration.ofSeconds(30))).isTrue();

    redis.hang();
    timedAdd(a, first, "one");
    timedAdd(a, second, "two"); // over the limit of 1: forget users, drop everything on reconnect
    redis.resume();
    await("both back up", Duration.ofSeconds(30), () -> a.cache().redisUp() && b.cache().redisUp());

    Instance c = instance();
    assertThat(contents(c.cache().snapshot(first, ALL, 5))).contains("one");
    assertThat(contents(c.cache().snapshot(second, ALL, 5))).contains("two");
  }

  @Test
  void aSingleSlowCommand_neitherMarksRedisDown_norClearsL1() throws Exception {
    config = config.withRedisTimeouts(TIMEOUT, Duration.ofSeconds(30)); // no health ping during the test
    Instance a = instance();
    String cached = newUser();
    a.cache().snapshot(cached, ALL, 5);
    assertThat(a.cache().awaitFills(Duration.ofSeconds(30))).isTrue();
    String other = newUser();

    redis.hang();
    try {
      // One read of L2 times out (a busy machine, a slow command): served from the database.
      assertThat(contents(a.cache().snapshot(other, ALL, 5))).containsExactly("lives in Lahore");
    } finally {
      redis.resume();
    }
    assertThat(a.count("yaad.cache.redis.errors")).isEqualTo(1);
    assertThat(a.cache().redisUp()).isTrue();
    assertThat(a.count("yaad.cache.clears", "reason", "redis-down")).isZero();
    assertThat(a.count("yaad.cache.redis.state.changes", "to", "down")).isZero();
  }

  @Test
  void commandsInFlightTogetherThroughOneStall_countAsOneFailure() throws Exception {
    // A starved CPU or a short pause of Redis fails every command in flight at once: that is one
    // stall, not many failures in a row, and must not mark Redis down (nor clear L1).
    config = config.withRedisTimeouts(TIMEOUT, Duration.ofSeconds(30)); // no health ping during the test
    Instance a = instance();
    List<String> users = new ArrayList<>();
    for (int i = 0; i < 2 * RedisTier.FAILURES_BEFORE_DOWN; i++) {
      users.add(newUser());
    }
    CountDownLatch go = new CountDownLatch(1);
    redis.hang();
    try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<List<String>>> reads = new ArrayList<>();
      for (String user : users) {
        reads.add(callers.submit(() -> {
          go.await();
          return contents(a.cache().snapshot(user, ALL, 5));
        }));
      }
      go.countDown();
      for (Future<List<String>> read : reads) {
        assertThat(read.get()).containsExactly("lives in Lahore");
      }
    } finally {
      redis.resume();
    }
    assertThat(a.count("yaad.cache.redis.errors")).isGreaterThanOrEqualTo(users.size());
    assertThat(a.cache().redisUp()).isTrue();
    assertThat(a.count("yaad.cache.clears", "reason", "redis-down")).isZero();
    assertThat(a.count("yaad.cache.redis.state.changes", "to", "down")).isZero();
  }

  @Test
  void threeFailuresInARow_markRedisDown() throws Exception {
    config = config.withRedisTimeouts(TIMEOUT, Duration.ofSeconds(30));
    Instance a = instance();
    redis.hang();
    try {
      for (int i = 0; i < RedisTier.FAILURES_BEFORE_DOWN; i++) {
        assertThat(a.cache().redisUp()).isTrue();
        assertThat(contents(a.cache().snapshot(newUser(), ALL, 5))).containsExactly("lives in Lahore");
      }
      assertThat(a.cache().redisUp()).isFalse();
      assertThat(a.count("yaad.cache.clears", "reason", "redis-down")).isEqualTo(1);
    } finally {
      redis.resume();
    }
  }
}
