package dev.yaad.memory.internal.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.yaad.memory.Categories;
import dev.yaad.memory.ConflictException;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.StoreFailedException;
import dev.yaad.memory.StoreUnavailableException;
import dev.yaad.memory.TooLargeException;
import dev.yaad.memory.UserDeletedException;
import dev.yaad.memory.store.StoreConfig;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link MemoryStore} on a JDBC database: embedded H2 or PostgreSQL, pooled by HikariCP
 * (or on a data source the caller owns), schema migrated by Flyway on {@code open}. The schema
 * holds every table with a user's data: memories, profiles, users and the agent's learning
 * outbox ({@code agent_outbox}).
 */
public final class JdbcMemoryStore implements MemoryStore {
  private static final Logger log = LoggerFactory.getLogger(JdbcMemoryStore.class);
  private static final String MEMORY_COLUMNS = "id, user_id, category, content, metadata, occurred_at, created_at, updated_at";
  /**
   * The tables holding a user's rows in a {@code user_id} column, which {@link #deleteUser}
   * empties of them (the {@code users} row goes last). A table added to the schema with a user
   * column must be added here: a test compares this list with the database's catalog.
   */
  public static final List<String> USER_TABLES = List.of("agent_outbox", "memories", "profiles");
  /** H2 runs in one process: a JVM-wide lock per user (striped) serialises deletions with locked writes. */
  private static final ReentrantLock[] H2_USER_LOCKS = new ReentrantLock[64];

  static {
    for (int i = 0; i < H2_USER_LOCKS.length; i++) {
      H2_USER_LOCKS[i] = new ReentrantLock();
    }
  }

  private final DataSource dataSource;
  private final HikariDataSource pool; // null when the caller owns the data source
  private final Dialect dialect;
  private final Categories categories;
  /** Strictly increasing microsecond timestamps, so newest-first order is total within a process. */
  private final AtomicLong lastMicros = new AtomicLong();

  private JdbcMemoryStore(DataSource dataSource, HikariDataSource pool, Dialect dialect, Categories categories) {
    this.dataSource = dataSource;
    this.pool = pool;
    this.dialect = dialect;
    this.categories = categories;
  }

  /**
   * Connects, migrates the schema to the newest version and returns a ready store.
   *
   * @throws StoreUnavailableException if the database cannot be reached or migrated
   */
  public static JdbcMemoryStore open(StoreConfig config) {
    Dialect dialect = Dialect.of(config.jdbcUrl());
    long start = System.nanoTime();
    HikariConfig hikari = new HikariConfig();
    hikari.setPoolName("yaad-store");
    hikari.setJdbcUrl(config.jdbcUrl());
    hikari.setUsername(config.username());
    hikari.setPassword(config.password());
    hikari.setMaximumPoolSize(config.maxPoolSize());
    hikari.setMinimumIdle(Math.min(2, config.maxPoolSize()));
    hikari.setConnectionTimeout(5_000);
    hikari.setInitializationFailTimeout(-1); // report the failure below, with the URL, instead of Hikari's
    if (config.schema() != null) {
      hikari.setSchema(config.schema());
    }
    if (dialect == Dialect.POSTGRES) {
      // Otherwise the driver puts the server's DETAIL ("Key (content)=(...)") and a failed batch's
      // parameter values into exception messages, which the pool and our outage lines log:
      // memory contents in the logs.
      hikari.addDataSourceProperty("logServerErrorDetail", "false");
    }
    HikariDataSource pool = new HikariDataSource(hikari);
    try {
      var flyway = Flyway.configure().dataSource(pool).locations("classpath:" + dialect.migrations);
      if (config.schema() != null) {
        flyway.schemas(config.schema()).createSchemas(true);
      }
      var migration = flyway.load().migrate();
      log.info("store: {} ready at {} ({} migrations applied, {} ms)",
          dialect, config.safeUrl(), migration.migrationsExecuted,
          (System.nanoTime() - start) / 1_000_000);
    } catch (RuntimeException e) {
      pool.close();
      throw new StoreUnavailableException(openFailure(config, e), e);
    }
    return new JdbcMemoryStore(pool, pool, dialect, config.categories());
  }

  /**
   * Migrates the schema of a data source the caller owns (and closes) to the newest version
   * and returns a store on it; {@link #close} leaves the data source open.
   *
   * @throws StoreUnavailableException if the database cannot be reached or migrated
   * @throws IllegalArgumentException if it is neither H2 nor PostgreSQL
   */
  public static JdbcMemoryStore open(DataSource dataSource, Categories categories) {
    long start = System.nanoTime();
    String url;
    try (Connection c = dataSource.getConnection()) {
      url = c.getMetaData().getURL();
    } catch (SQLException e) {
      throw new StoreUnavailableException("cannot open the memory store: no database connection (" + e.getMessage() + ")", e);
    }
    Dialect dialect = Dialect.of(url);
    try {
      var migration = Flyway.configure().dataSource(dataSource).locations("classpath:" + dialect.migrations).load().migrate();
      log.info("store: {} ready on the given data source ({} migrations applied, {} ms)", dialect, migration.migrationsExecuted,
          (System.nanoTime() - start) / 1_000_000);
    } catch (RuntimeException e) {
      throw new StoreUnavailableException("cannot migrate the memory store: " + rootMessage(e), e);
    }
    return new JdbcMemoryStore(dataSource, null, dialect, categories);
  }

  /**
   * Publishes the pool's meters on {@code registry} (HikariCP's {@code hikaricp.connections.*}:
   * active, idle, pending, {@code acquire} = the wait for a connection, {@code timeout}); nothing
   * when the caller owns the data source.
   */
  public void recordPoolMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
    if (pool != null) {
      pool.setMetricRegistry(registry);
    }
  }

  /**
   * The data source the store runs on: for readiness checks, for the agent's learning outbox
   * (its table is part of this schema) and for measurements of the database itself.
   */
  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public Categories categories() {
    return categories;
  }

  @Override
  public List<Memory> write(String userId, List<MemoryWrite> writes, UserState seen, Instant begunAt) {
    Validation.userId(userId);
    if (writes == null || writes.isEmpty()) {
      throw new InvalidInputException("writes must not be empty");
    }
    if (writes.size() > Limits.MAX_BATCH_SIZE) {
      throw new TooLargeException("a batch holds at most " + Limits.MAX_BATCH_SIZE + " writes (was " + writes.size() + ")");
    }
    List<Memory> inserts = new ArrayList<>();
    List<Embedding> insertEmbeddings = new ArrayList<>();
    List<Integer> insertPositions = new ArrayList<>();
    List<CheckedPatch> updates = new ArrayList<>();
    List<Integer> updatePositions = new ArrayList<>();
    for (int i = 0; i < writes.size(); i++) {
      String at = writes.size() == 1 ? "" : "writes[" + i + "].";
      switch (writes.get(i)) {
        case MemoryWrite.Insert insert -> {
          inserts.add(newRow(userId, insert.memory(), at));
          insertEmbeddings.add(insert.embedding());
          insertPositions.add(i);
        }
        case MemoryWrite.Update update -> {
          updates.add(checkPatch(update.id(), update.patch(), update.embedding(), at));
          updatePositions.add(i);
        }
        case null -> throw new InvalidInputException(at + "write must not be null");
      }
    }
    // A guarded write reads the user's state and tombstone in one statement (each round trip waits
    // for the database's turn on a busy machine), and a user with memories exists: no ensureUser.
    return inUserTransaction("write memories", userId, seen == null ? begunAt : null, begunAt != null || seen != null, c -> {
      if (seen != null) {
        UserState now = userState(c, userId, begunAt);
        if (!now.equals(seen)) {
          throw new StaleStateException("the memories of user '" + userId + "' changed since they were read (" + seen
              + ", now " + now + ")");
        }
      }
      Memory[] results = new Memory[writes.size()];
      if (!inserts.isEmpty()) {
        if (seen == null || seen.memories() == 0) {
          ensureUser(c, userId, inserts.getFirst().createdAt());
        }
        insert(c, inserts, insertEmbeddings);
        for (int j = 0; j < inserts.size(); j++) {
          results[insertPositions.get(j)] = inserts.get(j);
        }
      }
      for (int j = 0; j < updates.size(); j++) {
        results[updatePositions.get(j)] = applyUpdate(c, userId, updates.get(j));
      }
      return List.of(results);
    });
  }

  @Override
  public List<EmbeddedMemory> embeddedMemories(String userId) {
    Validation.userId(userId);
    return withConnection("read memories for search", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + MEMORY_COLUMNS + ", embedding, embedding_model"
          + " FROM memories WHERE user_id = ? ORDER BY created_at, id")) {
        ps.setString(1, userId);
        ps.setFetchSize(1000);
        List<EmbeddedMemory> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new EmbeddedMemory(memory(rs, userId), embedding(rs)));
          }
        }
        return out;
      }
    });
  }

  @Override
  public List<EmbeddedMemory> staleEmbeddings(String modelId, UUID afterId, int limit) {
    if (modelId == null || modelId.isBlank()) {
      throw new InvalidInputException("modelId must not be blank");
    }
    Validation.range("limit", limit, 1, Limits.MAX_BATCH_SIZE);
    String sql = "SELECT " + MEMORY_COLUMNS + ", embedding, embedding_model FROM memories"
        + " WHERE (embedding_model IS NULL OR embedding_model <> ?)" + (afterId == null ? "" : " AND id > ?")
        + " ORDER BY id LIMIT ?";
    return withConnection("find stale embeddings", c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int i = 1;
        ps.setString(i++, modelId);
        if (afterId != null) {
          ps.setObject(i++, afterId);
        }
        ps.setInt(i, limit);
        List<EmbeddedMemory> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new EmbeddedMemory(memory(rs), embedding(rs)));
          }
        }
        return out;
      }
    });
  }

  @Override
  public int putEmbeddings(List<EmbeddedMemory> embeddings) {
    if (embeddings == null || embeddings.isEmpty()) {
      return 0;
    }
    if (embeddings.size() > Limits.MAX_BATCH_SIZE) {
      throw new TooLargeException("a batch holds at most " + Limits.MAX_BATCH_SIZE + " embeddings (was " + embeddings.size() + ")");
    }
    for (int i = 0; i < embeddings.size(); i++) {
      EmbeddedMemory e = embeddings.get(i);
      if (e == null || e.memory() == null || e.embedding() == null || e.memory().updatedAt() == null) {
        throw new InvalidInputException("embeddings[" + i + "] needs a memory (with its updatedAt) and an embedding");
      }
    }
    return inTransaction("store embeddings", c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE memories SET embedding = ?, embedding_model = ?"
          + " WHERE id = ? AND user_id = ? AND updated_at = ?")) {
        for (EmbeddedMemory e : embeddings) {
          ps.setBytes(1, VectorCodec.encode(e.embedding().vector()));
          ps.setString(2, e.embedding().model());
          ps.setObject(3, e.memory().id());
          ps.setString(4, e.memory().userId());
          ps.setObject(5, toDb(e.memory().updatedAt()));
          ps.addBatch();
        }
        int changed = 0;
        for (int n : ps.executeBatch()) {
          changed += n == Statement.SUCCESS_NO_INFO ? 1 : Math.max(0, n);
        }
        return changed;
      }
    });
  }

  @Override
  public Memory get(String userId, UUID id) {
    Validation.userId(userId);
    return withConnection("get memory", c -> find(c, userId, id, false));
  }

  @Override
  public Page<Memory> list(String userId, String category, int limit, String cursor) {
    Validation.userId(userId);
    String cat = category == null ? null : categories.resolve(category);
    Validation.range("limit", limit, 1, Limits.MAX_PAGE_SIZE);
    Cursor after = cursor == null ? null : Cursor.decode(cursor);
    StringBuilder sql = new StringBuilder("SELECT " + MEMORY_COLUMNS + " FROM memories WHERE user_id = ?");
    if (cat != null) {
      sql.append(" AND category = ?");
    }
    if (after != null) {
      sql.append(" AND (created_at < ? OR (created_at = ? AND id < ?))");
    }
    // The equality-bound columns lead the ORDER BY so H2 reads the index in order (PostgreSQL drops them).
    sql.append(cat != null ? " ORDER BY user_id, category," : " ORDER BY user_id,").append(" created_at DESC, id DESC LIMIT ?");
    return withConnection("list memories", c -> {
      List<Memory> items = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        int i = 1;
        ps.setString(i++, userId);
        if (cat != null) {
          ps.setString(i++, cat);
        }
        if (after != null) {
          ps.setObject(i++, toDb(after.createdAt()));
          ps.setObject(i++, toDb(after.createdAt()));
          ps.setObject(i++, after.id());
        }
        ps.setInt(i, limit + 1); // one extra row tells whether another page exists
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            items.add(memory(rs));
          }
        }
      }
      if (items.isEmpty() && after == null && !userExists(c, userId)) {
        throw userNotFound(userId);
      }
      String next = null;
      if (items.size() > limit) {
        items.removeLast();
        Memory last = items.getLast();
        next = new Cursor(last.createdAt(), last.id()).encode();
      }
      return new Page<>(List.copyOf(items), next);
    });
  }

  @Override
  public void delete(String userId, UUID id) {
    Validation.userId(userId);
    int deleted = withConnection("delete memory", c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM memories WHERE id = ? AND user_id = ?")) {
        ps.setObject(1, id);
        ps.setString(2, userId);
        return ps.executeUpdate();
      }
    });
    if (deleted == 0) {
      throw memoryNotFound(userId, id);
    }
  }

  /**
   * Every row of the user, in one transaction: the rows of each of {@link #USER_TABLES}, then
   * the user, then the tombstone ({@code deleted_users}: the id and the deletion time, epoch
   * milliseconds, kept) that refuses guarded writes of work begun before it. Serialised per
   * user with guarded writes ({@link #write(String, List, UserState, Instant)}, {@link #putProfile(String,
   * String, Long, Instant)}). The tombstone is written even when nothing was stored, so that
   * work already under way for the id (a turn not yet in the outbox) cannot create it afterwards.
   */
  @Override
  public void deleteUser(String userId) {
    Validation.userId(userId);
    long deletedAt = now().toEpochMilli();
    int deleted = inUserTransaction("delete user", userId, null, true, c -> {
      int rows = 0;
      // Explicit deletes rather than relying on cascades: the same statements on both dialects,
      // and the outbox has no foreign key (a turn is queued before its user exists).
      for (String table : USER_TABLES) {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE user_id = ?")) {
          ps.setString(1, userId);
          rows += ps.executeUpdate();
        }
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM users WHERE id = ?")) {
        ps.setString(1, userId);
        rows += ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM deleted_users WHERE user_id = ?")) {
        ps.setString(1, userId);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO deleted_users (user_id, deleted_at) VALUES (?, ?)")) {
        ps.setString(1, userId);
        ps.setLong(2, deletedAt);
        ps.executeUpdate();
      }
      return rows;
    });
    if (deleted == 0) {
      throw userNotFound(userId);
    }
  }

  @Override
  public Profile profile(String userId) {
    Validation.userId(userId);
    return withConnection("get profile", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT p.content, p.version, p.updated_at FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id = ?")) {
        ps.setString(1, userId);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw userNotFound(userId);
          }
          return profile(userId, rs);
        }
      }
    });
  }

  @Override
  public List<Memory> restore(String userId, List<Memory> memories, List<Embedding> embeddings, Profile profile) {
    Validation.userId(userId);
    if (memories.size() > Limits.MAX_BATCH_SIZE) {
      throw new TooLargeException("a restore holds at most " + Limits.MAX_BATCH_SIZE + " memories (was " + memories.size() + ")");
    }
    if (embeddings.size() != memories.size()) {
      throw new IllegalArgumentException("one embedding (or null) per memory: " + embeddings.size() + " for " + memories.size());
    }
    List<Memory> rows = new ArrayList<>(memories.size());
    Instant first = profile != null && profile.updatedAt() != null ? profile.updatedAt() : now();
    for (int i = 0; i < memories.size(); i++) {
      Memory m = memories.get(i);
      String at = "memories[" + i + "].";
      Memory checked = newRow(userId, new NewMemory(m.category(), m.content(), m.metadata(), m.occurredAt()), at);
      if (m.id() == null || m.createdAt() == null || m.updatedAt() == null) {
        throw new InvalidInputException(at + "id, createdAt and updatedAt are required to restore a memory exactly");
      }
      rows.add(new Memory(m.id(), userId, checked.category(), checked.content(), checked.metadata(), checked.occurredAt(),
          m.createdAt(), m.updatedAt()));
      first = first.isBefore(m.createdAt()) ? first : m.createdAt();
    }
    if (profile != null) {
      Validation.content("profile content", profile.content());
      if (profile.version() < 1 || profile.updatedAt() == null) {
        throw new InvalidInputException("a restored profile needs a version of 1 or more and its updatedAt");
      }
    }
    Instant userCreated = first;
    return inTransaction("restore user", c -> {
      if (userExists(c, userId)) {
        throw new ConflictException("user '" + userId + "' already exists; an exact restore goes into a fresh user:"
            + " delete it first, or import without restoring ids and times");
      }
      ensureUser(c, userId, userCreated);
      for (Memory m : rows) {
        try (PreparedStatement ps = c.prepareStatement("SELECT user_id FROM memories WHERE id = ?")) {
          ps.setObject(1, m.id());
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              throw new ConflictException("memory id " + m.id() + " is already taken (by user '" + rs.getString(1)
                  + "'); nothing was restored");
            }
          }
        }
      }
      if (!rows.isEmpty()) {
        insert(c, rows, embeddings);
      }
      if (profile != null) {
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT INTO profiles (content, version, updated_at, user_id) VALUES (?, ?, ?, ?)")) {
          ps.setString(1, profile.content());
          ps.setLong(2, profile.version());
          ps.setObject(3, toDb(profile.updatedAt()));
          ps.setString(4, userId);
          ps.executeUpdate();
        }
      }
      return List.copyOf(rows);
    });
  }

  @Override
  public Profile putProfile(String userId, String content, Long expectedVersion, Instant begunAt) {
    Validation.userId(userId);
    Validation.content("profile content", content);
    if (expectedVersion != null && expectedVersion < 0) {
      throw new InvalidInputException("expectedVersion must be 0 or more (was " + expectedVersion + ")");
    }
    Instant now = now();
    return inUserTransaction("put profile", userId, begunAt, begunAt != null, c -> {
      ensureUser(c, userId, now);
      // Locking the user row serialises profile writers of one user, on both dialects.
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM users WHERE id = ? FOR UPDATE")) {
        ps.setString(1, userId);
        ps.executeQuery().close();
      }
      long current;
      try (PreparedStatement ps = c.prepareStatement("SELECT version FROM profiles WHERE user_id = ?")) {
        ps.setString(1, userId);
        try (ResultSet rs = ps.executeQuery()) {
          current = rs.next() ? rs.getLong(1) : 0;
        }
      }
      if (expectedVersion != null && expectedVersion != current) {
        throw new ConflictException("profile of user '" + userId + "' is at version " + current
            + ", not the expected " + expectedVersion + "; read it again and retry");
      }
      String sql = current == 0
          ? "INSERT INTO profiles (content, version, updated_at, user_id) VALUES (?, ?, ?, ?)"
          : "UPDATE profiles SET content = ?, version = ?, updated_at = ? WHERE user_id = ?";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, content);
        ps.setLong(2, current + 1);
        ps.setObject(3, toDb(now));
        ps.setString(4, userId);
        ps.executeUpdate();
      }
      return new Profile(userId, content, current + 1, now);
    });
  }

  @Override
  public Snapshot snapshot(String userId, List<String> categoryNames, int perCategory) {
    Validation.userId(userId);
    Validation.range("perCategory", perCategory, 1, Limits.MAX_PER_CATEGORY);
    LinkedHashSet<String> wanted = new LinkedHashSet<>();
    for (String name : categoryNames == null || categoryNames.isEmpty() ? categories.names() : categoryNames) {
      wanted.add(categories.resolve(name));
    }
    String sql = dialect.snapshot(wanted.size());
    return withConnection("snapshot", c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int i = 1;
        ps.setString(i++, userId);
        if (dialect == Dialect.POSTGRES) {
          ps.setArray(i++, c.createArrayOf("varchar", wanted.toArray()));
          ps.setString(i++, userId);
          ps.setInt(i, perCategory);
        } else {
          for (String category : wanted) {
            ps.setString(i++, userId);
            ps.setString(i++, category);
            ps.setInt(i++, perCategory);
          }
        }
        Map<String, List<Memory>> byCategory = new LinkedHashMap<>();
        wanted.forEach(name -> byCategory.put(name, new ArrayList<>()));
        Profile profile = null;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String category = rs.getString("category");
            if (category == null) {
              profile = profile(userId, rs);
            } else {
              byCategory.get(category).add(memory(rs, userId));
            }
          }
        }
        if (profile == null) {
          throw userNotFound(userId);
        }
        byCategory.replaceAll((k, v) -> List.copyOf(v));
        return new Snapshot(userId, profile, byCategory);
      }
    });
  }

  /** Closes the pool this store opened; a data source given to {@link #open(DataSource, Categories)} stays open. */
  @Override
  public void close() {
    if (pool != null) {
      pool.close();
    }
  }

  // --- internals -------------------------------------------------------------------------

  /** A validated {@link MemoryPatch}: canonical category, checked content and metadata. */
  private record CheckedPatch(UUID id, String category, String content, String metadata, Instant occurredAt, Embedding embedding) {}

  private Memory newRow(String userId, NewMemory m, String at) {
    if (m == null) {
      throw new InvalidInputException(at + "memory must not be null");
    }
    try {
      String category = categories.resolve(m.category());
      String content = Validation.content("content", m.content());
      String metadata = Validation.metadata(m.metadata());
      Instant occurredAt = Validation.occurredAt(m.occurredAt());
      Instant now = now();
      return new Memory(Ids.next(now.toEpochMilli()), userId, category, content, metadata, occurredAt, now, now);
    } catch (TooLargeException e) {
      throw new TooLargeException(at + e.getMessage());
    } catch (InvalidInputException e) {
      throw new InvalidInputException(at + e.getMessage());
    }
  }

  private CheckedPatch checkPatch(UUID id, MemoryPatch patch, Embedding embedding, String at) {
    if (patch == null || patch.isEmpty()) {
      throw new InvalidInputException(at + (at.isEmpty() ? "an" : "patch: an")
          + " update must change at least one of category, content, metadata, occurredAt");
    }
    try {
      return new CheckedPatch(id,
          patch.category() == null ? null : categories.resolve(patch.category()),
          patch.content() == null ? null : Validation.content("content", patch.content()),
          patch.metadata() == null ? null : Validation.metadata(patch.metadata()),
          Validation.occurredAt(patch.occurredAt()),
          embedding);
    } catch (TooLargeException e) {
      throw new TooLargeException(at + e.getMessage());
    } catch (InvalidInputException e) {
      throw new InvalidInputException(at + e.getMessage());
    }
  }

  private void insert(Connection c, List<Memory> rows, List<Embedding> embeddings) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO memories (" + MEMORY_COLUMNS
        + ", embedding, embedding_model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (int i = 0; i < rows.size(); i++) {
        Memory m = rows.get(i);
        ps.setObject(1, m.id());
        ps.setString(2, m.userId());
        ps.setString(3, m.category());
        ps.setString(4, m.content());
        ps.setString(5, m.metadata());
        ps.setObject(6, toDb(m.occurredAt()));
        ps.setObject(7, toDb(m.createdAt()));
        ps.setObject(8, toDb(m.updatedAt()));
        setEmbedding(ps, 9, embeddings.get(i));
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private Memory applyUpdate(Connection c, String userId, CheckedPatch p) throws SQLException {
    Memory old = find(c, userId, p.id(), true);
    Memory updated = new Memory(p.id(), userId,
        p.category() != null ? p.category() : old.category(),
        p.content() != null ? p.content() : old.content(),
        p.metadata() != null ? p.metadata() : old.metadata(),
        p.occurredAt() != null ? p.occurredAt() : old.occurredAt(),
        old.createdAt(), now());
    // A vector of the old text must never describe the new one: replace it or clear it.
    boolean touchEmbedding = p.embedding() != null || !updated.content().equals(old.content());
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE memories SET category = ?, content = ?, metadata = ?, occurred_at = ?, updated_at = ?"
            + (touchEmbedding ? ", embedding = ?, embedding_model = ?" : "") + " WHERE id = ? AND user_id = ?")) {
      int i = 1;
      ps.setString(i++, updated.category());
      ps.setString(i++, updated.content());
      ps.setString(i++, updated.metadata());
      ps.setObject(i++, toDb(updated.occurredAt()));
      ps.setObject(i++, toDb(updated.updatedAt()));
      if (touchEmbedding) {
        setEmbedding(ps, i, p.embedding());
        i += 2;
      }
      ps.setObject(i++, p.id());
      ps.setString(i, userId);
      ps.executeUpdate();
    }
    return updated;
  }

  private static void setEmbedding(PreparedStatement ps, int index, Embedding e) throws SQLException {
    if (e == null) {
      ps.setNull(index, Types.VARBINARY);
      ps.setNull(index + 1, Types.VARCHAR);
    } else {
      ps.setBytes(index, VectorCodec.encode(e.vector()));
      ps.setString(index + 1, e.model());
    }
  }

  private static Embedding embedding(ResultSet rs) throws SQLException {
    byte[] bytes = rs.getBytes("embedding");
    String model = rs.getString("embedding_model");
    return bytes == null || model == null || bytes.length < 4 ? null : new Embedding(model, VectorCodec.decode(bytes));
  }

  private Memory find(Connection c, String userId, UUID id, boolean forUpdate) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT " + MEMORY_COLUMNS + " FROM memories WHERE id = ? AND user_id = ?" + (forUpdate ? " FOR UPDATE" : ""))) {
      ps.setObject(1, id);
      ps.setString(2, userId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw memoryNotFound(userId, id);
        }
        return memory(rs);
      }
    }
  }

  /** The user's state; for work begun at {@code begunAt} (if not null), refused if they were deleted since. */
  private static UserState userState(Connection c, String userId, Instant begunAt) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), MAX(updated_at),"
        + " (SELECT deleted_at FROM deleted_users WHERE user_id = ?) FROM memories WHERE user_id = ?")) {
      ps.setString(1, userId);
      ps.setString(2, userId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        long deletedAt = rs.getLong(3);
        if (begunAt != null && !rs.wasNull()) {
          refuseIfDeletedSince(deletedAt, userId, begunAt);
        }
        return new UserState(rs.getLong(1), fromDb(rs.getObject(2, OffsetDateTime.class)));
      }
    }
  }

  private void ensureUser(Connection c, String userId, Instant now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(dialect.ensureUser())) {
      ps.setString(1, userId);
      ps.setObject(2, toDb(now));
      ps.executeUpdate();
    } catch (SQLException e) {
      // H2's MERGE can still lose a race with a concurrent first write for the same user.
      if (dialect != Dialect.H2 || !"23505".equals(e.getSQLState())) {
        throw e;
      }
    }
  }

  private boolean userExists(Connection c, String userId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM users WHERE id = ?")) {
      ps.setString(1, userId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static Memory memory(ResultSet rs) throws SQLException {
    return memory(rs, rs.getString("user_id"));
  }

  private static Memory memory(ResultSet rs, String userId) throws SQLException {
    return new Memory(
        rs.getObject("id", UUID.class), userId, rs.getString("category"), rs.getString("content"),
        rs.getString("metadata"), fromDb(rs.getObject("occurred_at", OffsetDateTime.class)),
        fromDb(rs.getObject("created_at", OffsetDateTime.class)), fromDb(rs.getObject("updated_at", OffsetDateTime.class)));
  }

  private static Profile profile(String userId, ResultSet rs) throws SQLException {
    String content = rs.getString("content");
    return content == null ? Profile.none(userId)
        : new Profile(userId, content, rs.getLong("version"), fromDb(rs.getObject("updated_at", OffsetDateTime.class)));
  }

  private Instant now() {
    long wall = Math.multiplyExact(System.currentTimeMillis(), 1000L);
    long micros = lastMicros.accumulateAndGet(wall, (last, w) -> Math.max(last + 1, w));
    return Instant.ofEpochSecond(micros / 1_000_000L, (micros % 1_000_000L) * 1000);
  }

  private static OffsetDateTime toDb(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }

  private static Instant fromDb(OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }

  private static NotFoundException userNotFound(String userId) {
    return new NotFoundException("user '" + userId + "' not found");
  }

  private static NotFoundException memoryNotFound(String userId, UUID id) {
    return new NotFoundException("memory " + id + " not found for user '" + userId + "'");
  }

  @FunctionalInterface
  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T withConnection(String what, SqlWork<T> work) {
    try (Connection c = connect(what)) {
      return work.run(c);
    } catch (SQLException e) {
      throw translate(what, e);
    }
  }

  /**
   * A transaction that holds the user's lock, if {@code locked}, and, for work begun at
   * {@code begunAt}, refuses to go on if the user was deleted at or after that time. The lock is
   * one per user for every kind of work that takes it (a deletion, a write guarded by the
   * tombstone, a de-duplicated write re-checking what it decided from): on PostgreSQL a
   * transaction-scoped advisory lock ({@link #lockUser}), taken first in the transaction, so it
   * serialises processes too; on H2 (one process) a JVM-wide lock held around the transaction.
   * A deletion that committed first is always seen; one that comes later waits for this write
   * and then deletes what it wrote. Writes that take no lock are new work, which may create the
   * user again.
   */
  private <T> T inUserTransaction(String what, String userId, Instant begunAt, boolean locked, SqlWork<T> work) {
    if (!locked) {
      return inTransaction(what, work);
    }
    ReentrantLock jvmLock = dialect == Dialect.H2 ? H2_USER_LOCKS[Math.floorMod(userId.hashCode(), H2_USER_LOCKS.length)] : null;
    if (jvmLock != null) {
      jvmLock.lock();
    }
    try {
      return inTransaction(what, c -> {
        if (dialect == Dialect.POSTGRES) {
          lockUser(c, userId);
        }
        if (begunAt != null) {
          requireNotDeletedSince(c, userId, begunAt);
        }
        return work.run(c);
      });
    } finally {
      if (jvmLock != null) {
        jvmLock.unlock();
      }
    }
  }

  /** Until the transaction ends, the user's other locked work waits, in every process (PostgreSQL). */
  private static void lockUser(Connection c, String userId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      ps.setLong(1, userLockKey(userId));
      ps.executeQuery().close();
    }
  }

  /**
   * The key of the user's PostgreSQL advisory lock ({@code pg_advisory_xact_lock(bigint)}): a
   * 64-bit hash of the user id, so two users sharing one (they only wait for each other) are
   * rare. Public for tests that hold the lock to catch work in the middle.
   */
  public static long userLockKey(String userId) {
    return UUID.nameUUIDFromBytes(("yaad-user:" + userId).getBytes(StandardCharsets.UTF_8)).getMostSignificantBits();
  }

  private static void requireNotDeletedSince(Connection c, String userId, Instant begunAt) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT deleted_at FROM deleted_users WHERE user_id = ?")) {
      ps.setString(1, userId);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          refuseIfDeletedSince(rs.getLong(1), userId, begunAt);
        }
      }
    }
  }

  private static void refuseIfDeletedSince(long deletedAt, String userId, Instant begunAt) {
    if (deletedAt >= begunAt.toEpochMilli()) {
      throw new UserDeletedException("user '" + userId + "' was deleted at " + Instant.ofEpochMilli(deletedAt)
          + ", after the work writing for them began (" + begunAt + "); nothing was written");
    }
  }

  private <T> T inTransaction(String what, SqlWork<T> work) {
    try (Connection c = connect(what)) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw translate(what, e);
    }
  }

  /** Not getting a connection at all means the database is unreachable (or the store closed). */
  private Connection connect(String what) {
    try {
      return dataSource.getConnection();
    } catch (SQLException e) {
      throw new StoreUnavailableException(what + " failed: no database connection (" + e.getMessage() + ")", e);
    }
  }

  private static RuntimeException translate(String what, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    if (state.equals("23503")) {
      return new ConflictException(what + " failed: the user was deleted at the same time; nothing was written");
    }
    String message = what + " failed (SQLState " + e.getSQLState() + "): " + e.getMessage();
    // Connection loss, serialisation failures and deadlocks, exhausted resources, shutdowns.
    boolean retriable = e instanceof SQLTransientException || e instanceof SQLRecoverableException
        || state.startsWith("08") || state.startsWith("40") || state.startsWith("53") || state.startsWith("57")
        || state.startsWith("58");
    return retriable ? new StoreUnavailableException(message, e) : new StoreFailedException(message, e);
  }

  /** H2's "Database may be already in use" (a file database is open in one process at a time). */
  private static final int H2_DATABASE_ALREADY_OPEN = 90020;

  private static String openFailure(StoreConfig config, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getErrorCode() == H2_DATABASE_ALREADY_OPEN) {
        return "the H2 database " + config.safeUrl() + " is open in another process (a running 'yaad serve', or another"
            + " yaad command): an H2 file opens in one process at a time. Stop that process first (or, with 'yaad chat',"
            + " talk to the running server: --url http://127.0.0.1:8080), or use PostgreSQL (YAAD_DB_URL=jdbc:postgresql://...)"
            + " for a database several processes share";
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return "cannot open the memory store at " + config.safeUrl() + ": " + rootMessage(e);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage();
  }
}
