package dev.yaad.memory.store;

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
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
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
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link MemoryStore} on a JDBC database: embedded H2 or PostgreSQL, pooled by HikariCP,
 * schema migrated by Flyway on {@link #open}.
 */
public final class JdbcMemoryStore implements MemoryStore {
  private static final Logger log = LoggerFactory.getLogger(JdbcMemoryStore.class);
  private static final String MEMORY_COLUMNS = "id, user_id, category, content, metadata, occurred_at, created_at, updated_at";

  private final HikariDataSource pool;
  private final Dialect dialect;
  private final Categories categories;
  /** Strictly increasing microsecond timestamps, so newest-first order is total within a process. */
  private final AtomicLong lastMicros = new AtomicLong();

  private JdbcMemoryStore(HikariDataSource pool, Dialect dialect, Categories categories) {
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
      throw new StoreUnavailableException("cannot open the memory store at " + config.safeUrl() + ": " + rootMessage(e), e);
    }
    return new JdbcMemoryStore(pool, dialect, config.categories());
  }

  /** The pooled data source, for tools that measure the database directly (benchmarks). */
  public DataSource dataSource() {
    return pool;
  }

  @Override
  public Categories categories() {
    return categories;
  }

  @Override
  public Memory add(String userId, NewMemory memory) {
    return addAll(userId, List.of(memory)).getFirst();
  }

  @Override
  public List<Memory> addAll(String userId, List<NewMemory> memories) {
    Validation.userId(userId);
    if (memories == null || memories.isEmpty()) {
      throw new InvalidInputException("memories must not be empty");
    }
    if (memories.size() > Limits.MAX_BATCH_SIZE) {
      throw new TooLargeException("a batch holds at most " + Limits.MAX_BATCH_SIZE + " memories (was " + memories.size() + ")");
    }
    List<Memory> rows = new ArrayList<>(memories.size());
    for (int i = 0; i < memories.size(); i++) {
      NewMemory m = memories.get(i);
      String at = memories.size() == 1 ? "" : "memories[" + i + "].";
      if (m == null) {
        throw new InvalidInputException(at + "memory must not be null");
      }
      try {
        String category = categories.resolve(m.category());
        String content = Validation.content("content", m.content());
        String metadata = Validation.metadata(m.metadata());
        Instant occurredAt = Validation.occurredAt(m.occurredAt());
        Instant now = now();
        rows.add(new Memory(Ids.next(now.toEpochMilli()), userId, category, content, metadata, occurredAt, now, now));
      } catch (TooLargeException e) {
        throw new TooLargeException(at + e.getMessage());
      } catch (InvalidInputException e) {
        throw new InvalidInputException(at + e.getMessage());
      }
    }
    return inTransaction("add memories", c -> {
      ensureUser(c, userId, rows.getFirst().createdAt());
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO memories (" + MEMORY_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        for (Memory m : rows) {
          ps.setObject(1, m.id());
          ps.setString(2, m.userId());
          ps.setString(3, m.category());
          ps.setString(4, m.content());
          ps.setString(5, m.metadata());
          ps.setObject(6, toDb(m.occurredAt()));
          ps.setObject(7, toDb(m.createdAt()));
          ps.setObject(8, toDb(m.updatedAt()));
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return List.copyOf(rows);
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
  public Memory update(String userId, UUID id, MemoryPatch patch) {
    Validation.userId(userId);
    if (patch == null || patch.isEmpty()) {
      throw new InvalidInputException("an update must change at least one of category, content, metadata, occurredAt");
    }
    String category = patch.category() == null ? null : categories.resolve(patch.category());
    String content = patch.content() == null ? null : Validation.content("content", patch.content());
    String metadata = patch.metadata() == null ? null : Validation.metadata(patch.metadata());
    Instant occurredAt = Validation.occurredAt(patch.occurredAt());
    return inTransaction("update memory", c -> {
      Memory old = find(c, userId, id, true);
      Memory updated = new Memory(id, userId,
          category != null ? category : old.category(),
          content != null ? content : old.content(),
          metadata != null ? metadata : old.metadata(),
          occurredAt != null ? occurredAt : old.occurredAt(),
          old.createdAt(), now());
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE memories SET category = ?, content = ?, metadata = ?, occurred_at = ?, updated_at = ? WHERE id = ? AND user_id = ?")) {
        ps.setString(1, updated.category());
        ps.setString(2, updated.content());
        ps.setString(3, updated.metadata());
        ps.setObject(4, toDb(updated.occurredAt()));
        ps.setObject(5, toDb(updated.updatedAt()));
        ps.setObject(6, id);
        ps.setString(7, userId);
        ps.executeUpdate();
      }
      return updated;
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

  @Override
  public void deleteUser(String userId) {
    Validation.userId(userId);
    int deleted = inTransaction("delete user", c -> {
      // Explicit deletes rather than relying on the cascade alone: the same statements on both dialects.
      for (String sql : List.of("DELETE FROM memories WHERE user_id = ?", "DELETE FROM profiles WHERE user_id = ?")) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, userId);
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM users WHERE id = ?")) {
        ps.setString(1, userId);
        return ps.executeUpdate();
      }
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
  public Profile putProfile(String userId, String content, Long expectedVersion) {
    Validation.userId(userId);
    Validation.content("profile content", content);
    if (expectedVersion != null && expectedVersion < 0) {
      throw new InvalidInputException("expectedVersion must be 0 or more (was " + expectedVersion + ")");
    }
    Instant now = now();
    return inTransaction("put profile", c -> {
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

  @Override
  public void close() {
    pool.close();
  }

  // --- internals -------------------------------------------------------------------------

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
      return pool.getConnection();
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

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage();
  }
}
