package dev.yaad.memory.internal.cache;

import dev.yaad.memory.Categories;
import dev.yaad.memory.Memory;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.Embedding;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.internal.store.UserState;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A store wrapper that counts the reads reaching the database and can hold one snapshot read
 * between reading the database and returning, which is exactly where a cache fill races a write.
 */
final class ProbeStore implements MemoryStore {
  final MemoryStore store;
  final AtomicInteger snapshotReads = new AtomicInteger();
  final AtomicInteger profileReads = new AtomicInteger();
  private final AtomicReference<Pause> nextPause = new AtomicReference<>();
  private final boolean closeStore;

  /** The read has reached the database ({@link #read}); it returns once {@link #release}d. */
  static final class Pause {
    final CountDownLatch read = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    void awaitRead() throws InterruptedException {
      if (!read.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("the paused snapshot read never reached the database");
      }
    }
  }

  ProbeStore(MemoryStore store, boolean closeStore) {
    this.store = store;
    this.closeStore = closeStore;
  }

  Pause pauseNextSnapshot() {
    Pause pause = new Pause();
    nextPause.set(pause);
    return pause;
  }

  @Override
  public Snapshot snapshot(String userId, List<String> categories, int perCategory) {
    snapshotReads.incrementAndGet();
    Snapshot snapshot = null;
    RuntimeException failure = null;
    try {
      snapshot = store.snapshot(userId, categories, perCategory);
    } catch (RuntimeException e) {
      failure = e; // held like a result: a failing read can race too
    }
    Pause pause = nextPause.getAndSet(null);
    if (pause != null) {
      pause.read.countDown();
      try {
        if (!pause.release.await(10, TimeUnit.SECONDS)) {
          throw new AssertionError("the paused snapshot read was never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    if (failure != null) {
      throw failure;
    }
    return snapshot;
  }

  @Override
  public Profile profile(String userId) {
    profileReads.incrementAndGet();
    return store.profile(userId);
  }

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
  public void delete(String userId, UUID id) {
    store.delete(userId, id);
  }

  @Override
  public void deleteUser(String userId) {
    store.deleteUser(userId);
  }

  @Override
  public Profile putProfile(String userId, String content, Long expectedVersion, java.time.Instant begunAt) {
    return store.putProfile(userId, content, expectedVersion, begunAt);
  }

  @Override
  public List<Memory> write(String userId, List<MemoryWrite> writes, UserState seen, java.time.Instant begunAt) {
    return store.write(userId, writes, seen, begunAt);
  }

  @Override
  public List<Memory> restore(String userId, List<Memory> memories, List<Embedding> embeddings, Profile profile) {
    return store.restore(userId, memories, embeddings, profile);
  }

  @Override
  public List<EmbeddedMemory> embeddedMemories(String userId) {
    return store.embeddedMemories(userId);
  }

  @Override
  public List<EmbeddedMemory> staleEmbeddings(String modelId, UUID afterId, int limit) {
    return store.staleEmbeddings(modelId, afterId, limit);
  }

  @Override
  public int putEmbeddings(List<EmbeddedMemory> embeddings) {
    return store.putEmbeddings(embeddings);
  }

  @Override
  public void close() {
    if (closeStore) {
      store.close();
    }
  }
}
