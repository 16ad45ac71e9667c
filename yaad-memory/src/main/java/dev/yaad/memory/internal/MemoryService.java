package dev.yaad.memory.internal;

import dev.yaad.memory.AddResult;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.Profile;
import dev.yaad.memory.StoreUnavailableException;
import dev.yaad.memory.TooLargeException;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.internal.cache.CachingMemoryStore;
import dev.yaad.memory.internal.search.DistinctiveWords;
import dev.yaad.memory.internal.search.SearchIndex;
import dev.yaad.memory.internal.store.Embedding;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.internal.store.StaleStateException;
import dev.yaad.memory.internal.store.Validation;
import dev.yaad.memory.search.ForgetRule;
import dev.yaad.memory.search.Match;
import dev.yaad.memory.search.SearchConfig;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The write path and search behind {@link dev.yaad.memory.Memories}: it embeds every memory it
 * writes (batched), de-duplicates, stores text and vector in one transaction, and ranks a
 * user's memories.
 *
 * <p><b>De-duplication.</b> A new memory is compared with the user's memories of the same
 * category (and with those earlier in the same batch): the same text after normalisation
 * gives {@link AddResult.Outcome#UNCHANGED}; else a cosine similarity of at least
 * {@link Builder#duplicateThreshold}, with agreement on the distinctive words (names, numbers,
 * places: {@link DistinctiveWords}), gives {@link AddResult.Outcome#UPDATED}: the existing
 * memory takes the new text (and the new metadata and time, when given); else
 * {@link AddResult.Outcome#ADDED}. Nothing is ever deleted by it. Writes of one user are
 * serialised: within this process by striped locks, and across processes by a conditional
 * write: the write transaction first takes the user's lock (on PostgreSQL an advisory lock,
 * {@code pg_advisory_xact_lock}, the same one a deletion takes), then, for work begun before
 * a deletion, checks the user's tombstone, then checks that the user's memories are still as
 * the search index saw them (count and newest change, {@code UserState}); if another process
 * wrote meanwhile nothing is written, the index is reloaded and the memories de-duplicated
 * again. So two instances adding the same fact at once store it once.
 *
 * <p><b>Visibility.</b> It writes through the caching store, which invalidates the user after
 * every write (and relays other processes' writes over Redis); this service registers itself
 * there, so each write drops the user's search state exactly once and the next search sees it.
 * It never invalidates by itself. (A store with the cache turned off still reports writes.)
 */
public final class MemoryService {
  private static final Logger log = LoggerFactory.getLogger(MemoryService.class);
  private static final int LOCK_STRIPES = 64;
  /** Conditional writes tried before giving up while other processes keep writing the same user. */
  private static final int MAX_STALE_ATTEMPTS = 5;
  /** Writes of at least this many memories (imports, not a learner's few) get an INFO line. */
  private static final int BULK_WRITE = 20;

  private final CachingMemoryStore store;
  private final Embedder embedder;
  private final SearchIndex search;
  private final Timer searchTimer;
  private final boolean deduplicate;
  private final double duplicateThreshold;
  private final ReentrantLock[] userLocks = new ReentrantLock[LOCK_STRIPES];

  private MemoryService(Builder b) {
    this.store = b.store;
    this.embedder = b.embedder;
    // While Redis is down other processes' writes go unheard: a user's search state is then
    // reloaded once older than the snapshots' bound, as the cache does with snapshots.
    this.search = new SearchIndex(b.store, b.embedder, b.searchConfig, Clock.systemUTC(), b.store::stateMaxAgeNanos);
    // The one invalidation path of a user's search state: every write the store sees, here or
    // (over Redis) in another process, and every clear of the whole cache.
    store.onInvalidate(this::invalidate);
    store.onInvalidateAll(search::invalidateAll);
    store.onPreload(this::preload);
    this.searchTimer = Timer.builder("yaad.memory.search").description("hybrid searches, query embedding included")
        .publishPercentileHistogram().register(b.meterRegistry);
    this.deduplicate = b.deduplicate;
    this.duplicateThreshold = b.duplicateThreshold;
    for (int i = 0; i < LOCK_STRIPES; i++) {
      userLocks[i] = new ReentrantLock();
    }
  }

  public static Builder builder(CachingMemoryStore store, Embedder embedder) {
    return new Builder(store, embedder);
  }

  public CachingMemoryStore store() {
    return store;
  }

  public Embedder embedder() {
    return embedder;
  }

  public SearchIndex searchIndex() {
    return search;
  }

  /** Adds one memory; see {@link #addAll}. */
  public AddResult add(String userId, NewMemory memory) {
    return add(userId, memory, null);
  }

  /**
   * Adds one memory on behalf of work that began at {@code begunAt} ({@code null}: no such
   * condition); see {@link MemoryStore#write(String, List, dev.yaad.memory.internal.store.UserState, Instant)}.
   *
   * @throws dev.yaad.memory.UserDeletedException if the user was deleted at or after {@code begunAt}
   */
  public AddResult add(String userId, NewMemory memory, Instant begunAt) {
    return write(userId, List.of(memory), "", deduplicate, begunAt).getFirst();
  }

  /**
   * Embeds the memories in one batch, de-duplicates them and stores the result in one
   * transaction (all or nothing).
   *
   * @return one result per input, in input order
   * @throws InvalidInputException if any memory breaks a rule (message prefixed {@code memories[i].})
   * @throws dev.yaad.memory.embed.EmbeddingException if embedding fails; nothing is written
   * @throws StoreUnavailableException if the store fails; nothing is written
   */
  public List<AddResult> addAll(String userId, List<NewMemory> memories) {
    return addAll(userId, memories, deduplicate);
  }

  /**
   * As {@link #addAll(String, List)}, choosing per call whether to de-duplicate: {@code false}
   * stores every memory as given (each result is {@code ADDED}), for callers whose contract is
   * "store what I send", such as the REST API's plain add.
   */
  public List<AddResult> addAll(String userId, List<NewMemory> memories, boolean deduplicate) {
    return addAll(userId, memories, deduplicate, null);
  }

  /**
   * As {@link #addAll(String, List)}, on behalf of work that began at {@code begunAt}
   * ({@code null}: no such condition); see {@link #add(String, NewMemory, Instant)}.
   *
   * @throws dev.yaad.memory.UserDeletedException if the user was deleted at or after {@code begunAt}
   */
  public List<AddResult> addAll(String userId, List<NewMemory> memories, Instant begunAt) {
    return addAll(userId, memories, deduplicate, begunAt);
  }

  private List<AddResult> addAll(String userId, List<NewMemory> memories, boolean deduplicate, Instant begunAt) {
    if (memories == null || memories.isEmpty()) {
      throw new InvalidInputException("memories must not be empty");
    }
    if (memories.size() > Limits.MAX_BATCH_SIZE) {
      throw new TooLargeException("a batch holds at most " + Limits.MAX_BATCH_SIZE + " memories (was " + memories.size() + ")");
    }
    return write(userId, memories, memories.size() == 1 ? "" : null, deduplicate, begunAt);
  }

  /**
   * Changes a memory; a new text is embedded and its vector replaces the old one in the same
   * transaction. No de-duplication: the caller named the memory to change.
   *
   * @throws NotFoundException if this user has no memory with that id
   */
  public Memory update(String userId, UUID id, MemoryPatch patch) {
    Embedding embedding = null;
    if (patch != null && patch.content() != null) {
      Validation.content("content", patch.content());
      embedding = new Embedding(embedder.modelId(), embedder.embed(patch.content()));
    }
    ReentrantLock lock = lockOf(userId);
    lock.lock();
    try {
      return store.write(userId, List.of(new MemoryWrite.Update(id, patch, embedding))).getFirst();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Restores a user exactly as exported (ids, times, profile version), each memory with a
   * vector of this embedder (one batch), in one transaction; see {@link MemoryStore#restore}.
   */
  public List<Memory> restore(String userId, List<Memory> memories, Profile profile) {
    Objects.requireNonNull(memories, "memories");
    if (memories.size() > Limits.MAX_BATCH_SIZE) {
      throw new TooLargeException("a restore holds at most " + Limits.MAX_BATCH_SIZE + " memories (was " + memories.size() + ")");
    }
    List<String> texts = new ArrayList<>(memories.size());
    for (int i = 0; i < memories.size(); i++) {
      Memory m = memories.get(i);
      if (m == null) {
        throw new InvalidInputException("memories[" + i + "].memory must not be null");
      }
      texts.add(Validation.content("memories[" + i + "].content", m.content()));
    }
    List<Embedding> embeddings = new ArrayList<>(texts.size());
    if (!texts.isEmpty()) {
      for (float[] vector : embedder.embed(texts)) {
        embeddings.add(new Embedding(embedder.modelId(), vector));
      }
    }
    ReentrantLock lock = lockOf(userId);
    lock.lock();
    try {
      return store.restore(userId, memories, embeddings, profile);
    } finally {
      lock.unlock();
    }
  }

  /** Deletes one memory. @throws NotFoundException if this user has no memory with that id */
  public void delete(String userId, UUID id) {
    store.delete(userId, id);
  }

  /** Deletes the user and everything of theirs. @throws NotFoundException if the user does not exist */
  public void deleteUser(String userId) {
    store.deleteUser(userId);
  }

  /**
   * The memories {@code description} names well enough to forget; see {@link SearchIndex#forgetMatches}.
   *
   * @throws InvalidInputException if the description is blank or too long
   */
  public List<Match> matchToForget(String userId, String description, ForgetRule rule) {
    Validation.content("description", description);
    return search.forgetMatches(userId, description, embedder.embed(description), rule);
  }

  /**
   * Hybrid search over the user's memories; see {@link SearchIndex#search(String, SearchRequest)}.
   */
  public List<SearchHit> search(String userId, SearchRequest request) {
    long start = System.nanoTime();
    try {
      return search.search(userId, request);
    } finally {
      searchTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Prepares the embedding model and the search code on a background daemon thread and
   * returns at once, so that the first write or search of the process does not wait for
   * them (the in-process model takes a second or two to load). A server calls it at start.
   */
  public CompletableFuture<Void> warmUpInBackground() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread.ofPlatform().daemon().name("yaad-memory-warmup").start(() -> {
      long start = System.nanoTime();
      try {
        embedder.warmUp();
        search.warmUp();
        log.info("memory: warmed up {} and search in {} ms", embedder.modelId(), (System.nanoTime() - start) / 1_000_000);
        done.complete(null);
      } catch (Throwable t) {
        log.warn("memory: warming up {} failed: {}", embedder.modelId(), t.toString());
        done.completeExceptionally(t);
      }
    });
    return done;
  }

  /**
   * Loads the user's search state if it is not held, so the first search of a call does not
   * wait for it; blocks, so call it off the request path (e.g. from a cache's preload hook).
   */
  public void preload(String userId) {
    search.preload(userId);
  }

  /** Drops the user's search state: the store calls it for every write of the user. */
  public void invalidate(String userId) {
    search.invalidate(userId);
  }

  // --- the write path ----------------------------------------------------------------------

  /** Where an input ended up: a write in the batch, or an existing memory left alone. */
  private record Slot(AddResult.Outcome outcome, int write, Memory unchanged) {}

  /** A memory to be inserted by this batch, still open to in-batch de-duplication. */
  private record Pending(int write, String category, String key, float[] vector, String content) {}

  /** @param prefix "" for a single memory, null for "memories[i]." */
  private List<AddResult> write(String userId, List<NewMemory> memories, String prefix, boolean deduplicate, Instant begunAt) {
    List<String> categories = new ArrayList<>(memories.size());
    List<String> texts = new ArrayList<>(memories.size());
    for (int i = 0; i < memories.size(); i++) {
      String at = prefix != null ? prefix : "memories[" + i + "].";
      NewMemory m = memories.get(i);
      if (m == null) {
        throw new InvalidInputException(at + "memory must not be null");
      }
      Validation.content(at + "content", m.content()); // before the model sees it: a lone surrogate is no text
      try {
        categories.add(store.categories().resolve(m.category()));
      } catch (InvalidInputException e) {
        throw new InvalidInputException(at + e.getMessage());
      }
      texts.add(m.content());
    }

    long start = System.nanoTime();
    List<float[]> vectors = embedder.embed(texts);
    long embedded = System.nanoTime();

    ReentrantLock lock = lockOf(userId);
    lock.lock();
    long locked = System.nanoTime();
    try {
      for (int attempt = 1; ; attempt++) {
        try {
          return decideAndWrite(userId, memories, categories, texts, vectors, deduplicate, begunAt,
              new Began(start, embedded, locked));
        } catch (StaleStateException e) {
          search.invalidate(userId); // another process wrote this user meanwhile: read again, decide again
          if (attempt == MAX_STALE_ATTEMPTS) {
            throw new StoreUnavailableException("the memories of user '" + userId + "' kept changing in other processes"
                + " during " + attempt + " attempts to write; try again", e);
          }
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * De-duplicates against the user's memories as the search index holds them, and writes.
   *
   * @param began when the write started, its texts were embedded and the user's lock was taken, for its log line
   */
  private List<AddResult> decideAndWrite(String userId, List<NewMemory> memories, List<String> categories, List<String> texts,
      List<float[]> vectors, boolean deduplicate, Instant begunAt, Began began) {
    List<MemoryWrite> writes = new ArrayList<>();
    List<Slot> slots = new ArrayList<>(memories.size());
    List<Pending> pending = new ArrayList<>();
    Map<UUID, Integer> updateOf = new HashMap<>();
    SearchIndex.Duplicates existing = deduplicate
        ? search.duplicatesOf(userId, categories, texts, vectors, duplicateThreshold) : null;
    long deduplicated = System.nanoTime();
    for (int i = 0; i < memories.size(); i++) {
      NewMemory m = memories.get(i);
      String category = categories.get(i);
      float[] vector = vectors.get(i);
      Embedding embedding = new Embedding(embedder.modelId(), vector);
      if (!deduplicate) {
        writes.add(new MemoryWrite.Insert(m, embedding));
        slots.add(new Slot(AddResult.Outcome.ADDED, writes.size() - 1, null));
        continue;
      }
      String key = SearchIndex.sameTextKey(m.content());
      Pending inBatch = inBatchDuplicate(pending, category, key, vector, m.content());
      if (inBatch != null) {
        if (inBatch.key().equals(key)) {
          slots.add(new Slot(AddResult.Outcome.UNCHANGED, inBatch.write(), null));
        } else { // the earlier one of this batch takes the newer text
          NewMemory earlier = ((MemoryWrite.Insert) writes.get(inBatch.write())).memory();
          writes.set(inBatch.write(), new MemoryWrite.Insert(merge(earlier, m), embedding));
          pending.set(pending.indexOf(inBatch), new Pending(inBatch.write(), category, key, vector, m.content()));
          slots.add(new Slot(AddResult.Outcome.UPDATED, inBatch.write(), null));
        }
        continue;
      }
      Optional<SearchIndex.Duplicate> duplicate = existing.found().get(i);
      if (duplicate.isPresent() && duplicate.get().sameText()) {
        Integer updating = updateOf.get(duplicate.get().memory().id());
        slots.add(updating == null
            ? new Slot(AddResult.Outcome.UNCHANGED, -1, duplicate.get().memory())
            : new Slot(AddResult.Outcome.UPDATED, updating, null));
      } else if (duplicate.isPresent()) {
        UUID id = duplicate.get().memory().id();
        MemoryWrite update = new MemoryWrite.Update(id,
            new MemoryPatch(null, m.content(), m.metadata(), m.occurredAt()), embedding);
        Integer earlier = updateOf.get(id);
        if (earlier != null) {
          writes.set(earlier, update); // the latest text of this batch wins
        } else {
          writes.add(update);
          updateOf.put(id, writes.size() - 1);
        }
        slots.add(new Slot(AddResult.Outcome.UPDATED, updateOf.get(id), null));
      } else {
        writes.add(new MemoryWrite.Insert(m, embedding));
        pending.add(new Pending(writes.size() - 1, category, key, vector, m.content()));
        slots.add(new Slot(AddResult.Outcome.ADDED, writes.size() - 1, null));
      }
    }
    // De-duplicated writes apply only if no other process wrote the user since the index was read.
    long invalidations = search.invalidations(userId);
    List<Memory> written = writes.isEmpty() ? List.of()
        : store.write(userId, writes, deduplicate ? existing.seen() : null, begunAt);
    if (deduplicate && !writes.isEmpty()) {
      search.written(existing, invalidations, writes, written); // the state as it is now, not read again
    }
    List<AddResult> results = new ArrayList<>(slots.size());
    int[] counts = new int[3];
    for (Slot slot : slots) {
      counts[slot.outcome().ordinal()]++;
      results.add(new AddResult(slot.outcome(), slot.write() >= 0 ? written.get(slot.write()) : slot.unchanged()));
    }
    if (memories.size() >= BULK_WRITE || log.isDebugEnabled()) {
      long end = System.nanoTime();
      // Where a slow write's time went: the model, the user's lock (another write of this user), de-duplication (the
      // user's index, read from the cache or the database), the transaction and what follows it.
      log.atLevel(memories.size() >= BULK_WRITE ? Level.INFO : Level.DEBUG).log("memory: wrote {} memories for user '{}'"
              + " ({} added, {} updated, {} unchanged; embedded in {} ms, stored in {} ms: lock {}, de-duplication {}, write {})",
          memories.size(), userId, counts[0], counts[1], counts[2], ms(began.embedded() - began.start()), ms(end - began.embedded()),
          ms(began.locked() - began.embedded()), ms(deduplicated - began.locked()), ms(end - deduplicated));
    }
    return results;
  }

  /** When a write started, its texts were embedded and it had the user's lock ({@link System#nanoTime}). */
  private record Began(long start, long embedded, long locked) {}

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  private Pending inBatchDuplicate(List<Pending> pending, String category, String key, float[] vector, String content) {
    Pending best = null;
    float bestScore = Float.NEGATIVE_INFINITY;
    for (Pending p : pending) {
      if (!p.category().equals(category)) {
        continue;
      }
      if (p.key().equals(key)) {
        return p;
      }
      float score = Vectors.dot(p.vector(), vector);
      if (score >= duplicateThreshold && score > bestScore && DistinctiveWords.agree(p.content(), content)) {
        best = p;
        bestScore = score;
      }
    }
    return best;
  }

  private static NewMemory merge(NewMemory earlier, NewMemory later) {
    return new NewMemory(earlier.category(), later.content(),
        later.metadata() != null ? later.metadata() : earlier.metadata(),
        later.occurredAt() != null ? later.occurredAt() : earlier.occurredAt());
  }

  private ReentrantLock lockOf(String userId) {
    return userLocks[Math.floorMod(Objects.hashCode(userId), LOCK_STRIPES)];
  }

  /** Options with named defaults; every value is checked when set. */
  public static final class Builder {
    private final CachingMemoryStore store;
    private final Embedder embedder;
    private SearchConfig searchConfig = SearchConfig.defaults();
    private boolean deduplicate = true;
    private double duplicateThreshold;
    private MeterRegistry meterRegistry = new CompositeMeterRegistry(); // with no registries: records nothing

    private Builder(CachingMemoryStore store, Embedder embedder) {
      this.store = Objects.requireNonNull(store, "store");
      this.embedder = Objects.requireNonNull(embedder, "embedder");
      this.duplicateThreshold = embedder.duplicateThreshold();
    }

    public Builder searchConfig(SearchConfig searchConfig) {
      this.searchConfig = Objects.requireNonNull(searchConfig, "searchConfig");
      return this;
    }

    /**
     * Whether adds are de-duplicated (default true). Turn it off only for data that is a
     * record rather than facts, such as a transcript whose every turn must stay a memory.
     */
    public Builder deduplicate(boolean deduplicate) {
      this.deduplicate = deduplicate;
      return this;
    }

    /** The cosine at or above which a memory of the same category counts as a near duplicate (default: the embedder's). */
    public Builder duplicateThreshold(double threshold) {
      if (!(threshold > 0 && threshold <= 1)) {
        throw new IllegalArgumentException("duplicateThreshold must be in (0, 1] (was " + threshold + ")");
      }
      this.duplicateThreshold = threshold;
      return this;
    }

    /** Where search latency ({@code yaad.memory.search}) is recorded; by default nowhere. */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
      return this;
    }

    public MemoryService build() {
      return new MemoryService(this);
    }
  }
}
