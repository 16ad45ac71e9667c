package dev.yaad.memory.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.Embedding;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.internal.store.TestWrites;
import dev.yaad.memory.testing.TestStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The caching decorator in its embedded configuration (L1 only) over H2. */
class EmbeddedCacheTest {
  static final List<String> ALL = List.of();
  @TempDir static Path dir;
  static MemoryStore database;

  ProbeStore probe;
  SimpleMeterRegistry registry;
  CachingMemoryStore cache;

  @BeforeAll
  static void openDatabase() {
    database = JdbcMemoryStore.open(TestStores.h2(dir));
  }

  @AfterAll
  static void closeDatabase() {
    database.close();
  }

  @BeforeEach
  void openCache() {
    probe = new ProbeStore(database, false);
    registry = new SimpleMeterRegistry();
    cache = CachingMemoryStore.create(probe, CacheConfig.defaults(), registry);
  }

  @AfterEach
  void closeCache() {
    cache.close();
  }

  static String newUser() {
    String user = "u-" + UUID.randomUUID();
    TestWrites.insertAll(database, user, List.of(NewMemory.of("FACT", "lives in Lahore"), NewMemory.of("GOAL", "learn the sitar")));
    return user;
  }

  static List<String> contents(Snapshot snapshot) {
    List<String> all = new ArrayList<>();
    snapshot.memories().values().forEach(list -> list.forEach(m -> all.add(m.content())));
    return all;
  }

  double count(String name, String... tags) {
    return registry.get(name).tags(tags).counter().count();
  }

  @Test
  void snapshot_secondReadIsServedFromL1() {
    String user = newUser();
    Snapshot first = cache.snapshot(user, ALL, 5);
    Snapshot second = cache.snapshot(user, ALL, 5);

    assertThat(second).isSameAs(first).isEqualTo(database.snapshot(user, ALL, 5));
    assertThat(probe.snapshotReads).hasValue(1);
    assertThat(count("yaad.cache.gets", "level", "l1", "result", "hit")).isEqualTo(1);
    assertThat(count("yaad.cache.gets", "level", "l1", "result", "miss")).isEqualTo(1);
  }

  @Test
  void snapshot_variantsAreCachedSeparately() {
    String user = newUser();
    Snapshot all = cache.snapshot(user, ALL, 5);
    Snapshot goals = cache.snapshot(user, new ArrayList<>(List.of("GOAL")), 1); // any List implementation
    assertThat(goals.memories()).containsOnlyKeys("GOAL");
    assertThat(cache.snapshot(user, List.of("GOAL"), 1)).isSameAs(goals);
    assertThat(cache.snapshot(user, ALL, 5)).isSameAs(all);
    assertThat(cache.snapshot(user, List.of("GOAL"), 2)).isNotSameAs(goals);
    assertThat(probe.snapshotReads).hasValue(3);
  }

  @Test
  void profile_isCachedFromTheSnapshotLoad() {
    String user = newUser();
    database.putProfile(user, "Aisha, a teacher", null);
    cache.snapshot(user, ALL, 5);

    assertThat(cache.profile(user).content()).isEqualTo("Aisha, a teacher");
    assertThat(probe.profileReads).hasValue(0);
  }

  @Test
  void profile_readThroughAndInvalidatedByPutProfile() {
    String user = newUser();
    assertThat(cache.profile(user).exists()).isFalse();
    assertThat(cache.profile(user).exists()).isFalse();
    assertThat(probe.profileReads).hasValue(1);

    cache.putProfile(user, "likes chai", 0L);
    assertThat(cache.profile(user).content()).isEqualTo("likes chai");
    assertThat(probe.profileReads).hasValue(2);
  }

  @Test
  void everyWrite_invalidatesTheUsersSnapshot() {
    List<BiConsumer<String, Snapshot>> writes = List.of(
        (user, before) -> TestWrites.insert(cache, user, NewMemory.of("PLAN", "visit Skardu")),
        (user, before) -> TestWrites.insertAll(cache, user, List.of(NewMemory.of("PLAN", "a"), NewMemory.of("PLAN", "b"))),
        (user, before) -> cache.write(user, List.of(new MemoryWrite.Update(before.memories().get("FACT").getFirst().id(),
            new MemoryPatch(null, "lives in Karachi", null, null), null))),
        (user, before) -> cache.delete(user, before.memories().get("FACT").getFirst().id()),
        (user, before) -> cache.putProfile(user, "new profile", null));
    for (BiConsumer<String, Snapshot> write : writes) {
      String user = newUser();
      Snapshot before = cache.snapshot(user, ALL, 5);
      write.accept(user, before);
      assertThat(cache.snapshot(user, ALL, 5)).isEqualTo(database.snapshot(user, ALL, 5)).isNotEqualTo(before);
    }
  }

  @Test
  void searchWrites_invalidateTheSnapshot_andEmbeddingsTellTheListeners() {
    String user = newUser();
    Snapshot before = cache.snapshot(user, ALL, 5);
    List<String> heard = new CopyOnWriteArrayList<>();
    cache.onInvalidate(heard::add);

    List<Memory> written = cache.write(user, List.of(new MemoryWrite.Insert(NewMemory.of("GOAL", "run a marathon"), null)));
    assertThat(contents(cache.snapshot(user, ALL, 5))).contains("run a marathon").hasSize(contents(before).size() + 1);

    Memory memory = written.getFirst();
    int changed = cache.putEmbeddings(List.of(new EmbeddedMemory(memory, new Embedding("test-model", new float[] {1f, 0f}))));
    assertThat(changed).isEqualTo(1);
    assertThat(heard).containsExactly(user, user);
    assertThat(cache.embeddedMemories(user)).anySatisfy(e -> assertThat(e.embedding()).isNotNull());
  }

  @Test
  void deleteUser_invalidates() {
    String user = newUser();
    cache.snapshot(user, ALL, 5);
    cache.profile(user);
    cache.deleteUser(user);
    assertThatThrownBy(() -> cache.snapshot(user, ALL, 5)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> cache.profile(user)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void unknownUser_isNotCached() {
    String user = "u-" + UUID.randomUUID();
    assertThatThrownBy(() -> cache.snapshot(user, ALL, 5)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> cache.snapshot(user, ALL, 5)).isInstanceOf(NotFoundException.class);
    assertThat(probe.snapshotReads).hasValue(2);
    TestWrites.insert(cache, user, NewMemory.of("FACT", "first words"));
    assertThat(contents(cache.snapshot(user, ALL, 5))).containsExactly("first words");
  }

  @Test
  void badSnapshotRequests_getTheStoresErrors() {
    String user = newUser();
    assertThatThrownBy(() -> cache.snapshot(user, java.util.Arrays.asList("FACT", null), 5)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> cache.snapshot(user, List.of("NOPE"), 5)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> cache.snapshot(user, ALL, 0)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> cache.snapshot("bad id!", ALL, 5)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> cache.snapshot(null, ALL, 5)).isInstanceOf(InvalidInputException.class);
  }

  @Test
  void writeRejectedAsInvalid_keepsTheCache() {
    String user = newUser();
    Snapshot before = cache.snapshot(user, ALL, 5);
    assertThatThrownBy(() -> TestWrites.insert(cache, user, NewMemory.of("NOPE", "x"))).isInstanceOf(InvalidInputException.class);
    assertThat(cache.snapshot(user, ALL, 5)).isSameAs(before);
  }

  @Test
  void writeOfAnotherUser_keepsTheCache() {
    String user = newUser();
    String other = newUser();
    Snapshot before = cache.snapshot(user, ALL, 5);
    TestWrites.insert(cache, other, NewMemory.of("FACT", "unrelated"));
    assertThat(cache.snapshot(user, ALL, 5)).isSameAs(before);
  }

  @Test
  void cachedSnapshot_isUnmodifiable() {
    String user = newUser();
    Snapshot snapshot = cache.snapshot(user, ALL, 5);
    assertThatThrownBy(() -> snapshot.memories().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> snapshot.memories().get("FACT").clear()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void listeners_hearWritesAndExplicitInvalidations() {
    List<String> heard = new CopyOnWriteArrayList<>();
    cache.onInvalidate(heard::add);
    String user = newUser();
    long generation = cache.generation(user);
    TestWrites.insert(cache, user, NewMemory.of("FACT", "x"));
    cache.invalidate("someone-else");
    assertThat(heard).containsExactly(user, "someone-else");
    assertThat(cache.generation(user)).isNotEqualTo(generation);
    assertThat(count("yaad.cache.invalidations", "direction", "sent")).isEqualTo(2);
  }

  @Test
  void preload_warmsTheAgentsSnapshotAndRunsHooksInTheBackground() throws Exception {
    String user = newUser();
    CountDownLatch hooked = new CountDownLatch(1);
    List<String> hookUsers = new CopyOnWriteArrayList<>();
    cache.onPreload(id -> {
      hookUsers.add(id);
      hooked.countDown();
    });

    assertThat(cache.preload(user)).isPresent();
    assertThat(hooked.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(hookUsers).containsExactly(user);

    cache.snapshot(user, List.of(), CacheConfig.defaults().preloadPerCategory());
    cache.profile(user);
    assertThat(probe.snapshotReads).hasValue(1);
    assertThat(probe.profileReads).hasValue(0);
    assertThat(cache.preload("u-" + UUID.randomUUID())).isEmpty();
  }

  /**
   * The classic race, forced: a read loads the old snapshot from the database, a write commits
   * and invalidates, and only then does the read try to fill L1. The fill must be refused.
   */
  @Test
  void loadRacingAWrite_neverLeavesStaleDataCachedAfterTheWriteReturned() throws Exception {
    String user = newUser();
    ProbeStore.Pause pause = probe.pauseNextSnapshot();
    CompletableFuture<Snapshot> reader = CompletableFuture.supplyAsync(() -> cache.snapshot(user, ALL, 5));
    pause.awaitRead();

    Memory written = TestWrites.insert(cache, user, NewMemory.of("FACT", "written during the read"));
    pause.release.countDown();
    Snapshot raced = reader.get(10, TimeUnit.SECONDS);

    assertThat(contents(raced)).as("the racing read began before the write").doesNotContain(written.content());
    assertThat(contents(cache.snapshot(user, ALL, 5))).contains(written.content());
    assertThat(probe.snapshotReads).hasValue(2);
  }

  @Test
  void concurrentMisses_shareOneLoad() throws Exception {
    String user = newUser();
    ProbeStore.Pause pause = probe.pauseNextSnapshot();
    CompletableFuture<Snapshot> preload = cache.preloadAsync(user).thenApply(java.util.Optional::orElseThrow);
    pause.awaitRead();
    Snapshot[] follower = new Snapshot[1];
    Thread reader = Thread.ofPlatform().start(() -> follower[0] = cache.snapshot(user, ALL, 5));
    awaitParked(reader); // on the running load
    pause.release.countDown();
    reader.join(10_000);

    assertThat(follower[0]).isSameAs(preload.get(10, TimeUnit.SECONDS));
    assertThat(probe.snapshotReads).hasValue(1);
  }

  @Test
  void aLoadFromBeforeAWrite_isNotShared_withReadsAfterIt() throws Exception {
    String user = newUser();
    ProbeStore.Pause pause = probe.pauseNextSnapshot();
    CompletableFuture<Snapshot> early = CompletableFuture.supplyAsync(() -> cache.snapshot(user, ALL, 5));
    pause.awaitRead();
    Memory written = TestWrites.insert(cache, user, NewMemory.of("FACT", "after the early read began"));

    Snapshot late = cache.snapshot(user, ALL, 5); // must not wait for, nor take, the early load
    pause.release.countDown();

    assertThat(contents(late)).contains(written.content());
    assertThat(contents(early.get(10, TimeUnit.SECONDS))).doesNotContain(written.content());
    assertThat(probe.snapshotReads).hasValue(2);
  }

  @Test
  void concurrentMisses_ofAnUnknownUser_allGetNotFound() throws Exception {
    String user = "u-" + UUID.randomUUID();
    ProbeStore.Pause pause = probe.pauseNextSnapshot();
    CompletableFuture<Snapshot> first = CompletableFuture.supplyAsync(() -> cache.snapshot(user, ALL, 5));
    pause.awaitRead();
    CompletableFuture<Snapshot> second = new CompletableFuture<>();
    Thread reader = Thread.ofPlatform().start(() -> {
      try {
        second.complete(cache.snapshot(user, ALL, 5));
      } catch (RuntimeException e) {
        second.completeExceptionally(e);
      }
    });
    awaitParked(reader); // joined the first load
    pause.release.countDown();
    for (CompletableFuture<Snapshot> f : List.of(first, second)) {
      assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(NotFoundException.class);
    }
  }

  @Test
  void l1Disabled_readsGoToTheStore() {
    try (CachingMemoryStore uncached = CachingMemoryStore.create(probe, CacheConfig.defaults().withL1MaxWeightBytes(0))) {
      String user = newUser();
      uncached.snapshot(user, ALL, 5);
      uncached.snapshot(user, ALL, 5);
      assertThat(probe.snapshotReads).hasValue(2);
    }
  }

  @Test
  void config_rejectsBadValuesNamingTheField() {
    assertThatThrownBy(() -> CacheConfig.defaults().withRedisUrl("localhost:6379"))
        .hasMessageContaining("redisUrl");
    assertThatThrownBy(() -> CacheConfig.defaults().withPreload(List.of(), 0))
        .hasMessageContaining("preloadPerCategory");
    assertThatThrownBy(() -> CacheConfig.defaults().withTtls(java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(2), java.time.Duration.ofMinutes(1)))
        .hasMessageContaining("l1TtlWhileRedisDown");
    assertThat(CacheConfig.defaults().withRedisUrl("redis://:s3cret@host:6379").toString()).doesNotContain("s3cret");
    assertThat(CacheConfig.defaults().withRedisUrl("redis://me:s3cret@host:6379").safeRedisUrl()).isEqualTo("redis://me:****@host:6379");
    assertThat(CacheConfig.defaults().withRedisUrl(" ").redisEnabled()).isFalse();
  }

  /** Waits until {@code thread} parks (on a load it shares), failing if it ends first. */
  static void awaitParked(Thread thread) {
    dev.yaad.memory.testing.Await.until(() -> {
      assertThat(thread.isAlive()).as("the read waits for the running load").isTrue();
      return thread.getState() == Thread.State.WAITING;
    }, java.time.Duration.ofSeconds(10), "the read parked on the running load");
  }
}
