package dev.yaad.memory.internal.cache;

import static dev.yaad.memory.internal.cache.EmbeddedCacheTest.contents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.internal.store.TestWrites;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Services;
import dev.yaad.memory.testing.TestStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two (or three) cache instances, as two server processes would have, sharing one PostgreSQL
 * schema and the real Redis on loopback.
 */
class RedisCacheTest {
  static final List<String> ALL = List.of();
  static StoreConfig storeConfig;
  static MemoryStore database;
  static CacheConfig config;

  final List<CachingMemoryStore> opened = new ArrayList<>();
  Instance a;
  Instance b;

  /** One "process": its cache, the probe under it, its meters, the invalidations it heard. */
  record Instance(CachingMemoryStore cache, ProbeStore probe, SimpleMeterRegistry registry, BlockingQueue<String> heard) {
    double count(String name, String... tags) {
      return registry.get(name).tags(tags).counter().count();
    }

    void awaitHeard(String user) throws InterruptedException {
      String got;
      do {
        got = heard.poll(30, TimeUnit.SECONDS);
        assertThat(got).as("invalidation of " + user + " arrived").isNotNull();
      } while (!got.equals(user));
    }
  }

  @BeforeAll
  static void open() {
    String redis = Services.redisUri();
    storeConfig = TestStores.postgres();
    database = JdbcMemoryStore.open(storeConfig);
    // Redis never fails here, so no command may time out: the default 100 ms bound is met on a
    // quiet machine, but on a loaded one a command that took longer fell back to the database (a
    // read counted on the probe, a fill not stored, an invalidation sent twice).
    config = CacheConfig.defaults().withRedisUrl(redis)
        .withRedisTimeouts(Duration.ofSeconds(10), CacheConfig.DEFAULT_REDIS_CHECK_INTERVAL)
        .withRedisKeyPrefix("yaad:test:" + UUID.randomUUID().toString().substring(0, 8) + ":");
  }

  @AfterAll
  static void close() {
    if (database != null) {
      database.close();
    }
    TestStores.dropSchema(storeConfig);
  }

  @BeforeEach
  void instances() {
    a = instance();
    b = instance();
  }

  @AfterEach
  void closeInstances() {
    opened.forEach(CachingMemoryStore::close);
  }

  Instance instance() {
    ProbeStore probe = new ProbeStore(database, false);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CachingMemoryStore cache = CachingMemoryStore.create(probe, config, registry);
    opened.add(cache);
    BlockingQueue<String> heard = new LinkedBlockingQueue<>();
    cache.onInvalidate(heard::add);
    awaitUp(cache);
    return new Instance(cache, probe, registry, heard);
  }

  /** A loaded machine can make the very first connection of the JVM slower than its bound. */
  static void awaitUp(CachingMemoryStore cache) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!cache.redisUp()) {
      assertThat(System.nanoTime()).as("Redis up within 30 s").isLessThan(deadline);
      java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
    }
  }

  static String newUser() {
    String user = "u-" + UUID.randomUUID();
    TestWrites.insertAll(database, user, List.of(
        new NewMemory("FACT", "میرا نام عائشہ ہے", "{\"source\":\"call\",\"n\":1.10}", Instant.parse("2024-03-01T10:15:30.123456Z")),
        NewMemory.of("GOAL", "learn the sitar 🎵")));
    database.putProfile(user, "Aisha, a teacher from Lahore", null);
    return user;
  }

  @Test
  void snapshotLoadedOnA_isAnL2HitOnB_identicalToTheDatabase() throws Exception {
    String user = newUser();
    Snapshot fromDatabase = a.cache().snapshot(user, ALL, 5);
    assertThat(a.cache().awaitFills(Duration.ofSeconds(30))).isTrue();

    Snapshot fromRedis = b.cache().snapshot(user, ALL, 5);
    assertThat(fromRedis).isEqualTo(fromDatabase).isEqualTo(database.snapshot(user, ALL, 5));
    assertThat(b.cache().profile(user)).isEqualTo(database.profile(user));
    assertThat(b.probe().snapshotReads).hasValue(0);
    assertThat(b.probe().profileReads).hasValue(0);
    assertThat(b.count("yaad.cache.gets", "level", "l2", "result", "hit")).isEqualTo(1);
    assertThat(a.count("yaad.cache.l2.fills", "result", "stored")).isEqualTo(1);
  }

  @Test
  void profileAlone_isSharedThroughL2() throws Exception {
    String user = newUser();
    a.cache().profile(user);
    assertThat(a.cache().awaitFills(Duration.ofSeconds(30))).isTrue();
    assertThat(b.cache().profile(user).content()).isEqualTo("Aisha, a teacher from Lahore");
    assertThat(b.probe().profileReads).hasValue(0);
  }

  @Test
  void writeOnA_isSeenOnB_onceTheInvalidationArrived() throws Exception {
    String user = newUser();
    b.cache().snapshot(user, ALL, 5);
    b.cache().profile(user);

    Memory written = TestWrites.insert(a.cache(), user, NewMemory.of("PLAN", "visit Skardu in June"));
    b.awaitHeard(user);
    assertThat(contents(b.cache().snapshot(user, ALL, 5))).contains(written.content());

    a.cache().putProfile(user, "Aisha, who plans a trip", null);
    b.awaitHeard(user);
    assertThat(b.cache().profile(user).content()).isEqualTo("Aisha, who plans a trip");
    assertThat(b.count("yaad.cache.invalidations", "direction", "received")).isEqualTo(2);
    assertThat(a.count("yaad.cache.invalidations", "direction", "sent")).isEqualTo(2);
    assertThat(a.count("yaad.cache.invalidations", "direction", "received")).as("own messages are skipped").isZero();
  }

  @Test
  void deleteUserOnA_isSeenOnB() throws Exception {
    String user = newUser();
    b.cache().snapshot(user, ALL, 5);
    a.cache().deleteUser(user);
    b.awaitHeard(user);
    assertThatThrownBy(() -> b.cache().snapshot(user, ALL, 5)).isInstanceOf(NotFoundException.class);
  }

  /**
   * A loads the old snapshot from the database; B writes and invalidates; then A fills.
   * Neither A's L1 (once B's invalidation arrived) nor L2 may keep the old snapshot.
   */
  @Test
  void fillRacingAWriteOnAnotherInstance_isRefusedInL2() throws Exception {
    String user = newUser();
    ProbeStore.Pause pause = a.probe().pauseNextSnapshot();
    CompletableFuture<Snapshot> reader = CompletableFuture.supplyAsync(() -> a.cache().snapshot(user, ALL, 5));
    pause.awaitRead();

    Memory written = TestWrites.insert(b.cache(), user, NewMemory.of("FACT", "written on B during A's read"));
    pause.release.countDown();
    assertThat(contents(reader.get(30, TimeUnit.SECONDS))).doesNotContain(written.content());
    assertThat(a.cache().awaitFills(Duration.ofSeconds(30))).isTrue();
    a.awaitHeard(user);

    assertThat(a.count("yaad.cache.l2.fills", "result", "stale")).isEqualTo(1);
    assertThat(contents(a.cache().snapshot(user, ALL, 5))).contains(written.content());
    Instance c = instance(); // an empty L1: reads whatever L2 holds
    assertThat(contents(c.cache().snapshot(user, ALL, 5))).contains(written.content());
  }

  @Test
  void fillRacingAWriteOnTheSameInstance_isRefusedInL1AndL2() throws Exception {
    String user = newUser();
    ProbeStore.Pause pause = a.probe().pauseNextSnapshot();
    CompletableFuture<Snapshot> reader = CompletableFuture.supplyAsync(() -> a.cache().snapshot(user, ALL, 5));
    pause.awaitRead();

    Memory written = TestWrites.insert(a.cache(), user, NewMemory.of("FACT", "written on A during its own read"));
    pause.release.countDown();
    assertThat(contents(reader.get(30, TimeUnit.SECONDS))).doesNotContain(written.content());
    assertThat(a.cache().awaitFills(Duration.ofSeconds(30))).isTrue();

    assertThat(contents(a.cache().snapshot(user, ALL, 5))).contains(written.content());
    assertThat(contents(b.cache().snapshot(user, ALL, 5))).contains(written.content());
    assertThat(a.count("yaad.cache.l2.fills", "result", "stale")).isEqualTo(1);
  }
}
