package dev.yaad.memory;

import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.internal.MemoryService;
import dev.yaad.memory.internal.Reembedder;
import dev.yaad.memory.internal.cache.CachingMemoryStore;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.search.ForgetRule;
import dev.yaad.memory.search.Match;
import dev.yaad.memory.search.SearchConfig;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import dev.yaad.memory.store.StoreConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * The memory engine's one front door: every read, write, search, preload, profile change and
 * user deletion goes through it. Build it once per process with {@link #builder()}; it opens
 * (and migrates) the database, caches snapshots and profiles, keeps each user's search state
 * and embeds every memory it writes.
 *
 * <p><b>Reads.</b> {@link #snapshot} and {@link #profile} are served from the cache (in
 * process, and in Redis when configured) and else from the database in one round trip;
 * {@link #get} and {@link #list} read the database. A user comes into being with their first
 * memory or profile; reading one who does not exist throws {@link NotFoundException}.
 *
 * <p><b>Writes.</b> {@link #add} and {@link #addAll} embed the memories (one batch), compare
 * them with the user's memories of the same category and store text and vector in one
 * transaction: the same text again is {@link AddResult.Outcome#UNCHANGED}, a text at least
 * {@link Builder#duplicateThreshold duplicateThreshold} similar {@link AddResult.Outcome#UPDATED
 * UPDATED} the memory it matches, anything else is {@link AddResult.Outcome#ADDED}; nothing is
 * ever deleted by it. {@link #update} embeds a new text. Writes of one user are serialised in
 * this process. When a write returns, no cache tier and no search state of this process holds
 * data older than it, and other processes sharing the Redis hear of it within about a
 * millisecond.
 *
 * <p><b>Errors.</b> Every method validates its input before touching the database and throws
 * {@link InvalidInputException} (or {@link TooLargeException}) naming the field and the rule; a
 * failing call writes nothing. {@link StoreUnavailableException} means a retry may help,
 * {@link StoreFailedException} that it will not; {@code EmbeddingException} that the embedding
 * model failed (nothing was written).
 *
 * {@snippet :
 * Memories memories = Memories.builder()
 *     .store(StoreConfig.of("jdbc:h2:file:" + dir.resolve("yaad")))
 *     .embedder(OnnxEmbedder.shared())
 *     .build();
 * AddResult saved = memories.add("u-42", NewMemory.of("PREFERENCE", "Loves green tea with cardamom"));
 * List<SearchHit> hits = memories.search("u-42", SearchRequest.of("what does she drink?", 5));
 * Snapshot snapshot = memories.snapshot("u-42", List.of(), 5); // the profile + the newest 5 of each category
 * memories.close();
 * }
 *
 * <p>Thread-safe. {@link #close} releases the cache's Redis connections and the connection
 * pool (a data source given to the builder stays open).
 */
public final class Memories implements AutoCloseable {
  /** The cosine at or above which a new memory updates one of the same category: {@value}. */
  public static final double DEFAULT_DUPLICATE_THRESHOLD = Embedder.DEFAULT_DUPLICATE_THRESHOLD;

  private final JdbcMemoryStore database;
  private final CachingMemoryStore store;
  private final MemoryService service;
  private final Embedder embedder;
  private final ForgetRule forgetRule;

  private Memories(Builder b) {
    this.embedder = b.embedder;
    this.forgetRule = b.forgetRule;
    this.database = b.storeConfig != null ? JdbcMemoryStore.open(b.storeConfig) : JdbcMemoryStore.open(b.dataSource, b.categories);
    try {
      database.recordPoolMetrics(b.meterRegistry);
      this.store = CachingMemoryStore.create(database, b.cache, b.meterRegistry);
      this.service = MemoryService.builder(store, b.embedder).searchConfig(b.search).deduplicate(b.deduplicate)
          .duplicateThreshold(b.duplicateThreshold).meterRegistry(b.meterRegistry).build();
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
    Gauge.builder("yaad.memory.search.users", service.searchIndex(), index -> index.loadedUsers())
        .description("users whose search state is held in memory").register(b.meterRegistry);
  }

  /** Starts a configuration; {@code store(...)} or {@code dataSource(...)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  // ---- reads ----

  /** The categories memories may have. */
  public Categories categories() {
    return store.categories();
  }

  /** @throws NotFoundException if this user has no memory with that id */
  public Memory get(String userId, UUID id) {
    return store.get(userId, id);
  }

  /**
   * The user's memories, newest first.
   *
   * @param category a category, or {@code null} for all
   * @param limit    1 to {@link Limits#MAX_PAGE_SIZE}
   * @param cursor   {@code null} for the first page, else a previous page's {@code nextCursor}
   * @throws NotFoundException if the user does not exist
   */
  public Page<Memory> list(String userId, String category, int limit, String cursor) {
    return store.list(userId, category, limit, cursor);
  }

  /**
   * @return the profile, or {@link Profile#none} if the user has none yet
   * @throws NotFoundException if the user does not exist
   */
  public Profile profile(String userId) {
    return store.profile(userId);
  }

  /**
   * The profile plus the newest {@code perCategory} memories of each category: from the cache,
   * else one database round trip.
   *
   * @param categories categories in the order wanted; empty means all
   * @param perCategory 1 to {@link Limits#MAX_PER_CATEGORY}
   * @throws NotFoundException if the user does not exist
   */
  public Snapshot snapshot(String userId, List<String> categories, int perCategory) {
    return store.snapshot(userId, categories, perCategory);
  }

  /**
   * Hybrid search (dense vectors and words, fused) over the user's memories; a user without
   * memories gets no hits. The user's search state is loaded on their first search (or
   * {@link #preload}) and kept while it fits.
   */
  public List<SearchHit> search(String userId, SearchRequest request) {
    return service.search(userId, request);
  }

  /**
   * The memories a description ("my goldfish", "میری بہن") names well enough to forget on its
   * strength alone, under the {@link Builder#forgetRule forget rule} (words and meaning must
   * both agree; see {@link ForgetRule}):
   *
   * <ul>
   *   <li>empty: nothing matches; forget nothing, ask the user;
   *   <li>one: the memory meant;
   *   <li>several: close matches, best first; forget nothing, ask which (at most 10).
   * </ul>
   *
   * It never falls back to the best search hit: "forget my goldfish" does not forget "plays
   * chess every Sunday".
   *
   * @throws InvalidInputException if the description is blank or too long
   */
  public List<Match> matchToForget(String userId, String description) {
    return service.matchToForget(userId, description, forgetRule);
  }

  // ---- writes ----

  /** Adds one memory, de-duplicating; see the class comment. */
  public AddResult add(String userId, NewMemory memory) {
    return service.add(userId, memory);
  }

  /**
   * {@link #add(String, NewMemory)} on behalf of work that began at {@code begunAt}: a turn
   * being learned (when it was queued), a session's tool (when the session opened). Refused if
   * the user was deleted at or after that time, checked inside the write's transaction and
   * serialised with {@link #deleteUser}: what a deleted user said never comes back.
   *
   * @throws UserDeletedException if the user was deleted at or after {@code begunAt}; nothing was written
   */
  public AddResult add(String userId, NewMemory memory, Instant begunAt) {
    return service.add(userId, memory, Objects.requireNonNull(begunAt, "begunAt"));
  }

  /**
   * Adds memories in one transaction (all or nothing), de-duplicating.
   *
   * @return one result per input, in input order
   * @throws InvalidInputException if any memory breaks a rule (message prefixed {@code memories[i].})
   */
  public List<AddResult> addAll(String userId, List<NewMemory> memories) {
    return service.addAll(userId, memories);
  }

  /**
   * As {@link #addAll(String, List)}, choosing whether to de-duplicate: {@code false} stores
   * every memory as given (each result is {@code ADDED}), for callers whose contract is "store
   * what I send", such as the REST API's plain add and an import.
   */
  public List<AddResult> addAll(String userId, List<NewMemory> memories, boolean deduplicate) {
    return service.addAll(userId, memories, deduplicate);
  }

  /**
   * {@link #addAll(String, List)} on behalf of work that began at {@code begunAt} (an
   * extraction: when its earliest turn was queued); see {@link #add(String, NewMemory, Instant)}.
   *
   * @throws UserDeletedException if the user was deleted at or after {@code begunAt}; nothing was written
   */
  public List<AddResult> addAll(String userId, List<NewMemory> memories, Instant begunAt) {
    return service.addAll(userId, memories, Objects.requireNonNull(begunAt, "begunAt"));
  }

  /**
   * Changes a memory; a new text is embedded in the same transaction.
   *
   * @throws NotFoundException if this user has no memory with that id
   */
  public Memory update(String userId, UUID id, MemoryPatch patch) {
    return service.update(userId, id, patch);
  }

  /** @throws NotFoundException if this user has no memory with that id */
  public void delete(String userId, UUID id) {
    service.delete(userId, id);
  }

  /**
   * Deletes the user and everything of theirs, in one transaction: memories (with their
   * vectors), profile, the user, and the turns waiting in the agent's learning outbox; and
   * writes a tombstone (the id and the time, nothing else) so that work begun before now (a turn
   * being learned, a session's tool) can never write for the user afterwards ({@link
   * #add(String, NewMemory, Instant)}, {@link #putProfile(String, String, Long, Instant)}). Work
   * that begins later (a new memory over REST, a new session) is a new user of the same id.
   * Every cache tier and search state here and (over Redis) in other processes drops the user.
   *
   * @throws NotFoundException if nothing was stored for the user (the tombstone is written all the same)
   */
  public void deleteUser(String userId) {
    service.deleteUser(userId);
  }

  /**
   * Replaces the profile text and increments its version, creating the user if needed.
   *
   * @param expectedVersion {@code null} to write unconditionally, else the version the caller
   *     read (0 for "no profile yet")
   * @throws ConflictException if {@code expectedVersion} is not the current version
   */
  public Profile putProfile(String userId, String content, Long expectedVersion) {
    return store.putProfile(userId, content, expectedVersion);
  }

  /**
   * {@link #putProfile(String, String, Long)} on behalf of work that began at {@code begunAt}
   * (a profile refresh: when it was asked for); see {@link #add(String, NewMemory, Instant)}.
   *
   * @throws UserDeletedException if the user was deleted at or after {@code begunAt}; nothing was written
   */
  public Profile putProfile(String userId, String content, Long expectedVersion, Instant begunAt) {
    return store.putProfile(userId, content, expectedVersion, Objects.requireNonNull(begunAt, "begunAt"));
  }

  /**
   * Restores a user exactly as exported: each memory with its own id, times, metadata and
   * category, and the profile with its version and time, in one transaction (all or nothing).
   * Every memory gets a vector of this instance's embedder. For faithful backups ({@code yaad
   * users import --exact}); {@link #add} and {@link #addAll} assign ids and times themselves.
   *
   * @param memories as {@link #list} returned them, each with id, createdAt and updatedAt (at
   *     most {@link Limits#MAX_BATCH_SIZE}); the user id in them is ignored
   * @param profile  the profile to restore (version 1 or more, with its update time), or {@code null}
   * @return the restored memories, in input order
   * @throws ConflictException if the user already exists (restore into a fresh user: delete it
   *     first), or a memory id is taken by another user
   * @throws InvalidInputException if a memory or the profile breaks a rule (messages prefixed
   *     {@code memories[i].}); nothing is written
   */
  public List<Memory> restore(String userId, List<Memory> memories, Profile profile) {
    return service.restore(userId, memories, profile);
  }

  // ---- call start, maintenance ----

  /**
   * Warms everything a call will read: the snapshot the agent asks for (loaded now) and the
   * user's search state (in the background).
   *
   * @return the snapshot, or empty if the user does not exist yet
   */
  public Optional<Snapshot> preload(String userId) {
    return store.preload(userId);
  }

  /** {@link #preload} on a background virtual thread, for callers that must not wait. */
  public CompletableFuture<Optional<Snapshot>> preloadAsync(String userId) {
    return store.preloadAsync(userId);
  }

  /**
   * Loads the embedding model and the search code on a background daemon thread and returns at
   * once, so that the first write or search does not wait for them. A server calls it at start.
   */
  public CompletableFuture<Void> warmUpInBackground() {
    return service.warmUpInBackground();
  }

  /**
   * Gives every memory whose stored vector is missing or of another model a vector of this
   * embedder, in batches (one INFO line each), where the memory did not change meanwhile; every
   * process drops the search state of the users it touched. Safe to stop and run again.
   *
   * @param batchSize 1 to {@link Limits#MAX_BATCH_SIZE}
   */
  public Reembedded reembed(int batchSize) {
    Reembedder.Result r = new Reembedder(store, embedder, userId -> { }).run(batchSize);
    return new Reembedded(r.examined(), r.updated(), r.skipped(), r.users(), r.millis());
  }

  /**
   * Whether some memory has no vector of this embedder (written with another model, or before
   * embeddings): such memories are found by their words only until {@link #reembed} runs. One
   * query that stops at the first such memory.
   */
  public boolean needsReembedding() {
    return !store.staleEmbeddings(embedder.modelId(), null, 1).isEmpty();
  }

  /**
   * What {@link #reembed} did.
   *
   * @param examined memories found stale
   * @param updated  memories that now carry a current vector
   * @param skipped  memories changed while being embedded (left for the next run)
   * @param users    users whose vectors changed
   * @param millis   how long it took
   */
  public record Reembedded(long examined, long updated, long skipped, long users, long millis) {}

  /** The model memories and queries are embedded with. */
  public Embedder embedder() {
    return embedder;
  }

  /**
   * The database: for readiness checks, and for components that keep rows of their own in its
   * schema (the agent's learning outbox, whose table these migrations create).
   */
  public DataSource dataSource() {
    return database.dataSource();
  }

  /** Whether Redis is configured and answering (false when it is not configured). */
  public boolean redisUp() {
    return store.redisUp();
  }

  /** Releases the cache's Redis connections and the connection pool this instance opened. */
  @Override
  public void close() {
    store.close();
  }

  /**
   * How to build {@link Memories}: where the database is, and optional settings with named
   * defaults. Each option is checked when set (and may be set once); combinations are checked
   * by {@link #build()}.
   */
  public static final class Builder {
    private StoreConfig storeConfig;
    private DataSource dataSource;
    private Categories categories;
    private Embedder embedder;
    private CacheConfig cache;
    private SearchConfig search;
    private Boolean deduplicate;
    private Double duplicateThreshold;
    private ForgetRule forgetRule;
    private MeterRegistry meterRegistry;

    private Builder() {}

    /** The database to open (and migrate): URL, credentials, schema, pool size, categories. */
    public Builder store(StoreConfig storeConfig) {
      requireUnset(this.storeConfig, "store");
      if (dataSource != null) {
        throw new IllegalStateException("store cannot be combined with dataSource: give one of them");
      }
      this.storeConfig = Objects.requireNonNull(storeConfig, "storeConfig");
      return this;
    }

    /** {@code store(StoreConfig.of(jdbcUrl))}: {@code jdbc:h2:...} or {@code jdbc:postgresql:...}. */
    public Builder jdbcUrl(String jdbcUrl) {
      return store(StoreConfig.of(Objects.requireNonNull(jdbcUrl, "jdbcUrl")));
    }

    /**
     * A data source the caller owns (and closes after {@link Memories#close}): its schema is
     * migrated on {@link #build()}. H2 or PostgreSQL.
     */
    public Builder dataSource(DataSource dataSource) {
      requireUnset(this.dataSource, "dataSource");
      if (storeConfig != null) {
        throw new IllegalStateException("dataSource cannot be combined with store: give one of them");
      }
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      return this;
    }

    /** The categories, with {@link #dataSource} (a {@link StoreConfig} carries its own); default {@link Categories#DEFAULT}. */
    public Builder categories(Categories categories) {
      requireUnset(this.categories, "categories");
      this.categories = Objects.requireNonNull(categories, "categories");
      return this;
    }

    /** The embedding model; default {@link OnnxEmbedder#shared()}, in process. */
    public Builder embedder(Embedder embedder) {
      requireUnset(this.embedder, "embedder");
      this.embedder = Objects.requireNonNull(embedder, "embedder");
      return this;
    }

    /** The snapshot and profile cache; default {@link CacheConfig#defaults()} (in process only). */
    public Builder cache(CacheConfig cache) {
      requireUnset(this.cache, "cache");
      this.cache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /** How search ranks and how much state it keeps; default {@link SearchConfig#defaults()}. */
    public Builder search(SearchConfig search) {
      requireUnset(this.search, "search");
      this.search = Objects.requireNonNull(search, "search");
      return this;
    }

    /**
     * Whether {@link Memories#add} and {@link Memories#addAll(String, List)} de-duplicate
     * (default true). Turn it off only for data that is a record rather than facts, such as a
     * transcript whose every turn must stay a memory.
     */
    public Builder deduplicate(boolean deduplicate) {
      requireUnset(this.deduplicate, "deduplicate");
      this.deduplicate = deduplicate;
      return this;
    }

    /**
     * The cosine at or above which a new memory updates one of the same category, in (0, 1];
     * default: the embedder's ({@link Embedder#duplicateThreshold()}; {@value Memories#DEFAULT_DUPLICATE_THRESHOLD} for the default model).
     */
    public Builder duplicateThreshold(double threshold) {
      requireUnset(this.duplicateThreshold, "duplicateThreshold");
      if (!(threshold > 0 && threshold <= 1)) {
        throw new IllegalArgumentException("duplicateThreshold must be in (0, 1] (was " + threshold + ")");
      }
      this.duplicateThreshold = threshold;
      return this;
    }

    /** When a description matches a memory well enough to forget it ({@link Memories#matchToForget}); default {@link ForgetRule#defaults()}. */
    public Builder forgetRule(ForgetRule forgetRule) {
      requireUnset(this.forgetRule, "forgetRule");
      this.forgetRule = Objects.requireNonNull(forgetRule, "forgetRule");
      return this;
    }

    /**
     * Where the engine's meters go ({@code yaad.cache.*}, {@code yaad.memory.snapshot},
     * {@code yaad.memory.search}, {@code yaad.memory.search.users}); default nowhere. One
     * {@code Memories} per registry.
     */
    public Builder meterRegistry(MeterRegistry meterRegistry) {
      requireUnset(this.meterRegistry, "meterRegistry");
      this.meterRegistry = Objects.requireNonNull(meterRegistry, "meterRegistry");
      return this;
    }

    /**
     * Opens the database (migrating its schema), connects to Redis when configured (for at
     * most about a second when it does not answer; the cache then starts without it) and
     * returns the ready engine.
     *
     * @throws IllegalStateException if neither store nor dataSource is set, or categories is
     *     combined with store
     * @throws StoreUnavailableException if the database cannot be reached or migrated
     */
    public Memories build() {
      if (storeConfig == null && dataSource == null) {
        throw new IllegalStateException("a database is required: Memories.builder().store(StoreConfig.of(url)) or .dataSource(ds)");
      }
      if (storeConfig != null && categories != null) {
        throw new IllegalStateException("categories goes with dataSource; with store, set them on the StoreConfig (withCategories)");
      }
      if (categories == null) {
        categories = Categories.DEFAULT;
      }
      if (embedder == null) {
        embedder = OnnxEmbedder.shared();
      }
      if (cache == null) {
        cache = CacheConfig.defaults();
      }
      if (search == null) {
        search = SearchConfig.defaults();
      }
      if (deduplicate == null) {
        deduplicate = true;
      }
      if (duplicateThreshold == null) {
        duplicateThreshold = embedder.duplicateThreshold();
      }
      if (forgetRule == null) {
        forgetRule = ForgetRule.defaults();
      }
      if (meterRegistry == null) {
        meterRegistry = new CompositeMeterRegistry(); // with no registries: records nothing
      }
      return new Memories(this);
    }

    private static void requireUnset(Object value, String option) {
      if (value != null) {
        throw new IllegalStateException(option + " was already set to " + value);
      }
    }
  }
}
