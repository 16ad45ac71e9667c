package dev.yaad.memory.internal.search;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.yaad.memory.Memory;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.internal.store.UserState;
import dev.yaad.memory.search.ForgetRule;
import dev.yaad.memory.search.Match;
import dev.yaad.memory.search.SearchConfig;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hybrid search over one user's memories, with per-user state kept in memory.
 *
 * <p>A user's state is loaded on their first search (one store query: every memory with its
 * stored vector; nothing is embedded at load), kept while it fits in
 * {@link SearchConfig#maxIndexBytes} (least recently used users are dropped first), and
 * dropped by {@link #invalidate} whenever that user's memories change, so the next search
 * reloads it. Every write for a user must therefore be followed by {@code invalidate(user)}
 * on every instance that may hold that user's state: {@code MemoryService} does it for the
 * writes it makes; a cross-instance bus calls it for writes made elsewhere. While that bus
 * is down, a state older than {@code maxAgeNanos} is loaded again at its next use. After a
 * de-duplicating write of its own, {@code MemoryService} gives the state back with the write
 * applied ({@link #written}), so a user who is written to often is not read whole from the
 * store again after every write.
 *
 * <p>Only vectors of the embedder's {@linkplain Embedder#modelId() model} are used; memories
 * without one are found by their words only until the re-embedding job has run. Each load
 * logs one INFO line (memories, how many lack a current vector, milliseconds).
 *
 * <p>Thread-safe. A load that races a write is never kept: invalidating waits for a load of
 * the same user in progress and then discards it.
 */
public final class SearchIndex {
  private static final Logger log = LoggerFactory.getLogger(SearchIndex.class);

  private final MemoryStore store;
  private final Embedder embedder;
  private final SearchConfig config;
  private final Cache<String, UserIndex> users;
  private final Clock clock;
  private final LongSupplier maxAgeNanos;
  /** Invalidations so far, per stripe of users: tells {@link #written} whether any but the write's own came. */
  private final AtomicLongArray invalidations = new AtomicLongArray(INVALIDATION_STRIPES);
  private final AtomicLong loads = new AtomicLong();
  private static final int INVALIDATION_STRIPES = 4096;

  public SearchIndex(MemoryStore store, Embedder embedder, SearchConfig config) {
    this(store, embedder, config, Clock.systemUTC(), () -> Long.MAX_VALUE);
  }

  public SearchIndex(MemoryStore store, Embedder embedder, SearchConfig config, Clock clock) {
    this(store, embedder, config, clock, () -> Long.MAX_VALUE);
  }

  /**
   * @param clock       the time of a request that does not say when it is asked ({@link SearchRequest#at()}):
   *                    the anchor of "yesterday", "last week"
   * @param maxAgeNanos how old a user's state may be when it is used, asked at each use: a
   *                    state older is loaded again (while invalidations cannot arrive, e.g.
   *                    Redis is down: {@code CachingMemoryStore.stateMaxAgeNanos})
   */
  public SearchIndex(MemoryStore store, Embedder embedder, SearchConfig config, Clock clock, LongSupplier maxAgeNanos) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.maxAgeNanos = Objects.requireNonNull(maxAgeNanos, "maxAgeNanos");
    this.store = Objects.requireNonNull(store, "store");
    this.embedder = Objects.requireNonNull(embedder, "embedder");
    this.config = Objects.requireNonNull(config, "config");
    this.users = Caffeine.newBuilder()
        .maximumWeight(config.maxIndexBytes() / 1024)
        .weigher((String user, UserIndex index) -> (int) Math.min(Integer.MAX_VALUE, index.weightBytes / 1024 + 1))
        .build();
  }

  public SearchConfig config() {
    return config;
  }

  /**
   * Embeds the query and ranks the user's memories. A user without memories (or unknown)
   * gets no hits.
   *
   * @throws dev.yaad.memory.InvalidInputException if the request breaks a rule (named in the message)
   * @throws dev.yaad.memory.embed.EmbeddingException if the query cannot be embedded
   * @throws dev.yaad.memory.StoreUnavailableException if the user's state must be loaded and the store fails
   */
  public List<SearchHit> search(String userId, SearchRequest request) {
    request.validate();
    float[] vector = config.denseWeight() > 0 ? embedder.embedQueries(List.of(request.query())).getFirst() : null;
    return search(userId, request, vector);
  }

  /**
   * Ranks the user's memories for a query whose vector the caller has already computed with
   * this index's embedder (or {@code null} for lexical ranking only).
   */
  public List<SearchHit> search(String userId, SearchRequest request, float[] queryVector) {
    request.validate();
    List<String> categories = new ArrayList<>(request.categories().size());
    for (String c : request.categories()) {
      categories.add(store.categories().resolve(c));
    }
    Instant at = request.at() != null ? request.at() : clock.instant();
    return index(userId).search(request, queryVector, categories, config, at.atZone(request.zone()));
  }

  /**
   * Loads what the first search of the process would otherwise load: Lucene's analysis chain
   * (ICU folding data) and the JIT's first pass over index building and ranking, on a tiny
   * throw-away index. Blocks; call it off the request path.
   */
  public void warmUp() {
    List<EmbeddedMemory> rows = new ArrayList<>();
    Instant now = Instant.now();
    String[] texts = {"Loves green tea with cardamom", "میری بہن کا نام عائشہ ہے", "Went hiking in the hills last June"};
    for (int i = 0; i < texts.length; i++) {
      rows.add(new EmbeddedMemory(new Memory(UUID.randomUUID(), "warm-up", "FACT", texts[i], "{}", null, now, now), null));
    }
    UserIndex index = UserIndex.build("warm-up", rows, embedder.modelId(), embedder.dimension(), TextAnalysis.DEFAULT);
    index.search(SearchRequest.of("tea in June", 2), null, List.of(), config, now.atZone(ZoneOffset.UTC));
  }

  /**
   * Loads the user's state now if it is not held (one store query), so that their first
   * search does not pay for it: for call start, beside the snapshot preload. Blocks.
   */
  public void preload(String userId) {
    index(userId);
  }

  /** Drops the user's in-memory state; the next search reloads it from the store. */
  public void invalidate(String userId) {
    invalidations.incrementAndGet(stripe(userId)); // first: a state derived before it must not be kept (see written)
    users.invalidate(userId);
  }

  /** Drops every user's state (e.g. after re-embedding everything). */
  public void invalidateAll() {
    for (int i = 0; i < INVALIDATION_STRIPES; i++) {
      invalidations.incrementAndGet(i);
    }
    users.invalidateAll();
  }

  /** A count of the user's invalidations (shared with some other users) to read just before a write: see {@link #written}. */
  public long invalidations(String userId) {
    return invalidations.get(stripe(userId));
  }

  /**
   * Holds the user's state with a write applied, instead of reading it all from the store at
   * its next use: for a write decided from {@code before} (which the store applied only if the
   * user's memories were still as {@code before} saw them) and invalidated once by the store
   * since {@code invalidationsBefore} was read. If any other invalidation came meanwhile (a write
   * elsewhere; another user of the same stripe), or a state is held already, nothing changes.
   *
   * @param written the store's results, one per write
   */
  public void written(Duplicates before, long invalidationsBefore, List<MemoryWrite> writes, List<Memory> written) {
    String userId = before.index.userId;
    int stripe = stripe(userId);
    if (invalidations.get(stripe) != invalidationsBefore + 1) {
      return;
    }
    List<EmbeddedMemory> rows = before.index.with(writes, written);
    if (rows == null) {
      return;
    }
    UserIndex after = UserIndex.build(userId, rows, embedder.modelId(), embedder.dimension(), TextAnalysis.DEFAULT);
    // Checked again under the map's lock: an invalidation after this check removes the state only once it is in.
    users.asMap().compute(userId, (id, held) -> held == null && invalidations.get(stripe) == invalidationsBefore + 1 ? after : held);
  }

  /** How many times a user's state was read from the store (for tests). */
  public long loads() {
    return loads.get();
  }

  private static int stripe(String userId) {
    return Math.floorMod(userId.hashCode(), INVALIDATION_STRIPES);
  }

  /** How many users' state is held now (for metrics and tests). */
  public long loadedUsers() {
    users.cleanUp();
    return users.estimatedSize();
  }

  /**
   * The memory that a new memory would duplicate: one of the same category whose text is
   * the same after {@linkplain #sameTextKey normalisation}, else the most similar one whose
   * cosine with {@code vector} is at least {@code threshold} and whose text
   * {@linkplain DistinctiveWords agrees} with {@code content} on names, numbers and places.
   */
  public Optional<Duplicate> duplicateOf(String userId, String category, String content, float[] vector, double threshold) {
    return duplicatesOf(userId, List.of(category), List.of(content), Collections.singletonList(vector), threshold)
        .found().getFirst();
  }

  /**
   * {@link #duplicateOf} for many new memories at once (one pass over the user's vectors).
   * The lists are parallel: category, content and vector (or {@code null}) of each.
   */
  public Duplicates duplicatesOf(String userId, List<String> categories, List<String> contents,
      List<float[]> vectors, double threshold) {
    UserIndex index = index(userId);
    int n = categories.size();
    List<Optional<Duplicate>> out = new ArrayList<>(n);
    List<Integer> open = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int same = index.sameTextDoc(categories.get(i), contents.get(i));
      if (same >= 0) {
        float[] v = vectors.get(i);
        out.add(Optional.of(new Duplicate(index.memories[same], true, v == null ? 1.0 : index.cosine(same, v))));
      } else {
        out.add(Optional.empty());
        if (vectors.get(i) != null) {
          open.add(i);
        }
      }
    }
    if (!open.isEmpty()) {
      String[] cats = new String[open.size()];
      float[][] vs = new float[open.size()][];
      for (int j = 0; j < cats.length; j++) {
        cats[j] = categories.get(open.get(j));
        vs[j] = vectors.get(open.get(j));
      }
      DistinctiveWords[] words = new DistinctiveWords[cats.length];
      for (int j = 0; j < cats.length; j++) {
        words[j] = DistinctiveWords.of(contents.get(open.get(j)));
      }
      int[] nearest = index.nearest(cats, vs, (float) threshold,
          (j, doc) -> words[j].agrees(DistinctiveWords.of(index.memories[doc].content())));
      for (int j = 0; j < nearest.length; j++) {
        if (nearest[j] >= 0) {
          out.set(open.get(j), Optional.of(new Duplicate(index.memories[nearest[j]], false, index.cosine(nearest[j], vs[j]))));
        }
      }
    }
    return new Duplicates(out, index);
  }

  /**
   * What {@link #duplicatesOf} found, one per new memory, and the user's memories as it saw them
   * (for a write that must not apply if they changed since: {@code MemoryStore.write(..., seen)}).
   */
  public static final class Duplicates {
    private final List<Optional<Duplicate>> found;
    private final UserIndex index;

    private Duplicates(List<Optional<Duplicate>> found, UserIndex index) {
      this.found = found;
      this.index = index;
    }

    public List<Optional<Duplicate>> found() {
      return found;
    }

    public UserState seen() {
      return index.state;
    }
  }

  /**
   * The user's memories that {@code description} matches under {@code rule}: none, exactly one
   * (the memory meant), or several close ones, best first (ask which); see {@link ForgetRule}.
   *
   * @param vector the description's vector from this index's embedder
   */
  public List<Match> forgetMatches(String userId, String description, float[] vector, ForgetRule rule) {
    return ForgetMatcher.matches(index(userId), description, vector, rule);
  }

  /**
   * A memory a new one duplicates.
   *
   * @param memory   the existing memory
   * @param sameText whether the texts are the same after normalisation (else: near duplicate)
   * @param cosine   the similarity of the two vectors
   */
  public record Duplicate(Memory memory, boolean sameText, double cosine) {}

  /**
   * The normalisation under which two texts count as the same for de-duplication: NFKC,
   * case-folded, whitespace collapsed, punctuation at either end dropped.
   */
  public static String sameTextKey(String text) {
    return TextAnalysis.sameTextKey(text);
  }

  UserIndex index(String userId) {
    UserIndex index = users.get(userId, this::load);
    if (System.nanoTime() - index.builtNanos > maxAgeNanos.getAsLong()) {
      users.asMap().remove(userId, index); // only this one: a newer load by another thread stays
      index = users.get(userId, this::load);
    }
    return index;
  }

  private UserIndex load(String userId) {
    loads.incrementAndGet();
    long start = System.nanoTime();
    var rows = store.embeddedMemories(userId);
    long read = System.nanoTime();
    UserIndex index = UserIndex.build(userId, rows, embedder.modelId(), embedder.dimension(), TextAnalysis.DEFAULT);
    long end = System.nanoTime();
    log.debug("search: loaded user '{}' ({} memories, {} without a {} vector, {} KiB; read {} ms, indexed {} ms)",
        userId, index.size(), index.withoutVector, embedder.modelId(), index.weightBytes / 1024,
        (read - start) / 1_000_000, (end - read) / 1_000_000);
    return index;
  }
}
