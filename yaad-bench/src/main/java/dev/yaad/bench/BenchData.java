package dev.yaad.bench;

import dev.yaad.memory.Memory;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.PGCopyOutputStream;

/**
 * The benchmark data set in a migrated store: {@code users} users, each with a profile and
 * {@code memoriesPerUser} memories (see {@link SyntheticMemories}).
 *
 * <p>Where rows sit on disk matters as much as how many there are: see {@link Layout}.
 *
 * <p>Seeding takes a while at full size, so it is done once: a one-row {@code bench_meta}
 * table records what is there, and a later run with the same sizes and layout reuses it.
 * Anything different (or a newer generator) empties the tables and seeds again.
 * PostgreSQL is loaded with COPY in one transaction (secondary indexes rebuilt after it),
 * then vacuumed and analysed so the planner and the visibility map look like a settled
 * production table; H2 with batched inserts.
 */
final class BenchData {
  /** The physical order of the memories table. */
  enum Layout {
    /**
     * Rows in creation order across users, as in a table written turn by turn over months:
     * a user's memories are scattered over many pages (a conversation's few stay together).
     * The realistic default.
     */
    TIME,
    /** Each user's rows next to each other, as after {@code CLUSTER}: a best case for reads. */
    USER;

    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Users whose memories are generated together and written in creation order (bounds memory use). */
  private static final int TIME_ORDER_USERS = 2_000;
  private static final int H2_BATCH = 1_000;
  private static final int H2_COMMIT_EVERY = 20_000;

  private final DataSource dataSource;
  private final Backend backend;
  private final PrintWriter out;

  BenchData(DataSource dataSource, Backend backend, PrintWriter out) {
    this.dataSource = dataSource;
    this.backend = backend;
    this.out = out;
  }

  /** @return true if it seeded, false if the data was already there */
  boolean ensure(int users, int memoriesPerUser, Layout layout) throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS bench_meta (id INT PRIMARY KEY, users INT NOT NULL,"
          + " memories_per_user INT NOT NULL, layout VARCHAR(16) NOT NULL, data_version INT NOT NULL,"
          + " seeded_at TIMESTAMP WITH TIME ZONE NOT NULL)");
      try (ResultSet rs = s.executeQuery("SELECT users, memories_per_user, layout, data_version FROM bench_meta WHERE id = 1")) {
        if (rs.next() && rs.getInt(1) == users && rs.getInt(2) == memoriesPerUser
            && layout.name().equals(rs.getString(3)) && rs.getInt(4) == SyntheticMemories.DATA_VERSION) {
          return false;
        }
      }
    }
    seed(users, memoriesPerUser, layout);
    return true;
  }

  private void seed(int users, int memoriesPerUser, Layout layout) throws SQLException {
    long rows = (long) users * memoriesPerUser;
    out.printf("seeding %s: %,d users x %,d memories = %,d rows, %s layout (once; later runs reuse them)...%n",
        backend, users, memoriesPerUser, rows, layout);
    out.flush();
    long start = System.nanoTime();
    SyntheticMemories data = new SyntheticMemories(memoriesPerUser, Instant.now());
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("DELETE FROM bench_meta");
        if (backend == Backend.POSTGRES) {
          s.execute("TRUNCATE memories, profiles, users");
        } else {
          s.execute("DELETE FROM memories");
          s.execute("DELETE FROM profiles");
          s.execute("DELETE FROM users");
        }
      }
      if (backend == Backend.POSTGRES) {
        copy(c, users, data, layout);
      } else {
        insert(c, users, data, layout);
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_meta"
          + " (id, users, memories_per_user, layout, data_version, seeded_at) VALUES (1, ?, ?, ?, ?, ?)")) {
        ps.setInt(1, users);
        ps.setInt(2, memoriesPerUser);
        ps.setString(3, layout.name());
        ps.setInt(4, SyntheticMemories.DATA_VERSION);
        ps.setObject(5, OffsetDateTime.now(ZoneOffset.UTC));
        ps.executeUpdate();
      }
      c.commit();
      c.setAutoCommit(true);
      long loaded = System.nanoTime();
      try (Statement s = c.createStatement()) {
        for (String table : new String[] {"users", "profiles", "memories"}) {
          s.execute(backend == Backend.POSTGRES ? "VACUUM (ANALYZE) " + table : "ANALYZE TABLE " + table);
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      out.printf("seeded %,d rows in %.1f s (%,.0f rows/s; %s %.1f s of it)%n", rows, seconds, rows / seconds,
          backend == Backend.POSTGRES ? "VACUUM ANALYZE" : "ANALYZE", (System.nanoTime() - loaded) / 1e9);
      out.flush();
    }
  }

  /**
   * Rewrites a freshly seeded H2 file compactly. Bulk loading leaves H2's file several times
   * larger than its live data (2.3 GB for 0.45 GB at full size), and reads from that bloated
   * file measure the loader, not the store. Call it with no other connection open.
   */
  static void compactH2(String url, PrintWriter out) throws SQLException {
    long start = System.nanoTime();
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      s.execute("SHUTDOWN COMPACT");
    }
    out.printf("compacted the H2 file in %.1f s%n", (System.nanoTime() - start) / 1e9);
    out.flush();
  }

  /** Every user's memories, in the table order the layout asks for. */
  private static void memories(int users, SyntheticMemories data, Layout layout, Consumer<Memory> sink) {
    if (layout == Layout.USER) {
      for (int i = 0; i < users; i++) {
        data.memories(i, sink);
      }
      return;
    }
    List<Memory> batch = new ArrayList<>();
    for (int first = 0; first < users; first += TIME_ORDER_USERS) {
      batch.clear();
      for (int i = first; i < Math.min(users, first + TIME_ORDER_USERS); i++) {
        data.memories(i, batch::add);
      }
      batch.sort(Comparator.comparing(Memory::createdAt));
      batch.forEach(sink);
    }
  }

  private static void copy(Connection c, int users, SyntheticMemories data, Layout layout) throws SQLException {
    PGConnection pg = c.unwrap(PGConnection.class);
    // Building the secondary indexes once after the load is several times faster than
    // maintaining them row by row in time order; their definitions come from the migrated
    // schema itself, so they stay whatever the migrations say.
    List<String> indexes = new ArrayList<>();
    try (Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
          + " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
          + " JOIN pg_namespace n ON n.oid = t.relnamespace"
          + " WHERE t.relname = 'memories' AND n.nspname = current_schema()"
          + " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid)")) {
        List<String> names = new ArrayList<>();
        while (rs.next()) {
          names.add(rs.getString(1));
          indexes.add(rs.getString(2));
        }
        for (String name : names) {
          s.execute("DROP INDEX \"" + name.replace("\"", "\"\"") + "\"");
        }
      }
      s.execute("SET LOCAL maintenance_work_mem = '256MB'");
    }
    copy(pg, "COPY users (id, created_at) FROM STDIN", w -> {
      for (int i = 0; i < users; i++) {
        SyntheticMemories.User u = data.user(i);
        row(w, u.id(), u.joinedAt().toString());
      }
    });
    copy(pg, "COPY profiles (user_id, content, version, updated_at) FROM STDIN", w -> {
      for (int i = 0; i < users; i++) {
        SyntheticMemories.User u = data.user(i);
        row(w, u.id(), u.profile(), "1", u.profileUpdatedAt().toString());
      }
    });
    copy(pg, "COPY memories (id, user_id, category, content, metadata, occurred_at, created_at, updated_at) FROM STDIN",
        w -> memories(users, data, layout, m -> row(w, m.id().toString(), m.userId(), m.category(), m.content(),
            m.metadata(), m.occurredAt() == null ? null : m.occurredAt().toString(), m.createdAt().toString(),
            m.updatedAt().toString())));
    try (Statement s = c.createStatement()) {
      for (String index : indexes) {
        s.execute(index);
      }
    }
  }

  private static void copy(PGConnection pg, String sql, Consumer<Writer> rows) throws SQLException {
    try (Writer w = new BufferedWriter(new OutputStreamWriter(new PGCopyOutputStream(pg, sql, 1 << 20),
        StandardCharsets.UTF_8), 1 << 16)) {
      rows.accept(w);
    } catch (UncheckedIOException e) {
      throw copyFailed(sql, e.getCause());
    } catch (IOException e) {
      throw copyFailed(sql, e);
    }
  }

  /** PGCopyOutputStream wraps the server's error in an IOException; surface the server's words. */
  private static SQLException copyFailed(String sql, IOException e) {
    return e.getCause() instanceof SQLException se ? se : new SQLException("COPY failed: " + sql, e);
  }

  /** One row in COPY's text format: tab-separated, backslash escapes, \N for null. */
  private static void row(Writer w, String... fields) {
    try {
      for (int f = 0; f < fields.length; f++) {
        if (f > 0) {
          w.write('\t');
        }
        String field = fields[f];
        if (field == null) {
          w.write("\\N");
          continue;
        }
        for (int i = 0; i < field.length(); i++) {
          char ch = field.charAt(i);
          switch (ch) {
            case '\\' -> w.write("\\\\");
            case '\t' -> w.write("\\t");
            case '\n' -> w.write("\\n");
            case '\r' -> w.write("\\r");
            default -> w.write(ch);
          }
        }
      }
      w.write('\n');
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void insert(Connection c, int users, SyntheticMemories data, Layout layout) throws SQLException {
    try (PreparedStatement user = c.prepareStatement("INSERT INTO users (id, created_at) VALUES (?, ?)");
        PreparedStatement profile = c.prepareStatement(
            "INSERT INTO profiles (user_id, content, version, updated_at) VALUES (?, ?, 1, ?)");
        PreparedStatement memory = c.prepareStatement("INSERT INTO memories"
            + " (id, user_id, category, content, metadata, occurred_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
      int[] pending = {0};
      for (int i = 0; i < users; i++) {
        SyntheticMemories.User u = data.user(i);
        user.setString(1, u.id());
        user.setObject(2, utc(u.joinedAt()));
        user.addBatch();
        profile.setString(1, u.id());
        profile.setString(2, u.profile());
        profile.setObject(3, utc(u.profileUpdatedAt()));
        profile.addBatch();
        if ((i + 1) % H2_BATCH == 0 || i == users - 1) {
          user.executeBatch();
          profile.executeBatch();
        }
      }
      try {
        memories(users, data, layout, m -> {
          try {
            bind(memory, m);
            memory.addBatch();
            if (++pending[0] % H2_BATCH == 0) {
              memory.executeBatch();
            }
            if (pending[0] % H2_COMMIT_EVERY == 0) {
              c.commit(); // bounded transactions: H2 keeps uncommitted changes in memory
            }
          } catch (SQLException e) {
            throw new UncheckedSql(e);
          }
        });
      } catch (UncheckedSql e) {
        throw e.sql;
      }
      memory.executeBatch();
    }
  }

  private static void bind(PreparedStatement ps, Memory m) throws SQLException {
    ps.setObject(1, m.id());
    ps.setString(2, m.userId());
    ps.setString(3, m.category());
    ps.setString(4, m.content());
    ps.setString(5, m.metadata());
    ps.setObject(6, m.occurredAt() == null ? null : utc(m.occurredAt()));
    ps.setObject(7, utc(m.createdAt()));
    ps.setObject(8, utc(m.updatedAt()));
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC);
  }

  private static final class UncheckedSql extends RuntimeException {
    final SQLException sql;

    UncheckedSql(SQLException sql) {
      super(sql);
      this.sql = sql;
    }
  }
}
