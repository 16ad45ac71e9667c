package dev.yaad.agent.learning;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.yaad.memory.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The learner's durable queue: one row per finished turn awaiting extraction ({@code TURN})
 * and at most one per user for a pending profile refresh ({@code PROFILE}). A row is
 * deleted only after its work is stored, so work accepted here survives a crash.
 *
 * <p>Ownership: a learner claims all of a user's rows with a lease ({@code owner},
 * {@code lease_until}) before working on them, and releases them after; a crashed
 * learner's leases expire and another learner takes the rows over.
 *
 * <p>The table is part of the memory store's schema (its migrations and dialects, see
 * {@code Memories}): the store is the one place that knows every table holding a user's data.
 */
final class Outbox {
  static final String TURN = "TURN";
  static final String PROFILE = "PROFILE";

  /** Reads and writes the rows' JSON payloads. */
  static final ObjectMapper JSON = new ObjectMapper();

  /** @param createdAt when the work was queued, epoch ms: writes for it are refused if the user was deleted since */
  record Row(long id, String kind, String userId, String sessionId, String payload, int attempts, long dueAt, long createdAt) {}

  private final DataSource dataSource;

  private Outbox(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * The outbox in a database the memory store has migrated.
   *
   * @throws IllegalStateException if the table is missing (the store was not opened on it)
   * @throws StoreUnavailableException if the database cannot be reached
   */
  static Outbox open(DataSource dataSource) {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM agent_outbox WHERE 1 = 0")) {
      ps.executeQuery().close();
    } catch (SQLException e) {
      if (e.getSQLState() != null && e.getSQLState().startsWith("42")) {
        throw new IllegalStateException("the learning outbox table (agent_outbox) is missing: give the learner the data source"
            + " of the memory store (Memories.dataSource()), whose migrations create it", e);
      }
      throw new StoreUnavailableException("cannot reach the database for the learning outbox: " + e.getMessage(), e);
    }
    return new Outbox(dataSource);
  }

  /**
   * Queues work, unless the user was deleted at or after {@code now} (when the work was queued:
   * a turn spoken before a deletion is not kept, whenever it reaches the outbox).
   */
  void insert(String kind, String userId, String sessionId, String payload, long dueAt, long now) {
    update("INSERT INTO agent_outbox (kind, user_id, session_id, payload, attempts, due_at, created_at)"
        + " SELECT ?, ?, ?, ?, 0, ?, ? FROM (VALUES (1)) one(x)"
        + " WHERE NOT EXISTS (SELECT 1 FROM deleted_users WHERE user_id = ? AND deleted_at >= ?)",
        kind, userId, sessionId, payload, dueAt, now, userId, now);
  }

  /**
   * Inserts finished turns in one transaction, all or none, each due {@code pauseMillis} after
   * it was accepted.
   *
   * @throws StoreUnavailableException if the database cannot take them (nothing is inserted)
   */
  void insertTurns(List<TurnBuffer.Turn> turns, long pauseMillis) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO agent_outbox (kind, user_id, session_id, payload, attempts, due_at, created_at, turn_key)"
              + " SELECT 'TURN', ?, ?, ?, 0, ?, ?, ? FROM (VALUES (1)) one(x)"
              + " WHERE NOT EXISTS (SELECT 1 FROM deleted_users WHERE user_id = ? AND deleted_at >= ?)"
              + " AND NOT EXISTS (SELECT 1 FROM agent_outbox WHERE turn_key = ?)")) {
        // A turn accepted before its user's deletion is not kept; one already written (a commit
        // whose answer was lost, written again) is not written twice.
        for (TurnBuffer.Turn t : turns) {
          bind(ps, t.userId(), t.sessionId(), t.payload(), t.acceptedAt() + pauseMillis, t.acceptedAt(), t.key(),
              t.userId(), t.acceptedAt(), t.key());
          ps.addBatch();
        }
        ps.executeBatch();
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw unavailable("write", e);
    }
  }

  /** Makes a session's waiting turns due now (a batch is complete, or the session ended). */
  void makeSessionDue(String sessionId, long now) {
    update("UPDATE agent_outbox SET due_at = ? WHERE session_id = ? AND kind = 'TURN' AND attempts = 0 AND due_at > ?",
        now, sessionId, now);
  }

  /** Makes all waiting work due now, except retries, which keep their backoff. */
  void makeAllDue(long now) {
    update("UPDATE agent_outbox SET due_at = ? WHERE due_at > ? AND attempts = 0", now, now);
  }

  /** Users with due work that no live lease holds, oldest first. */
  List<String> dueUsers(long now, int limit) {
    List<String> users = new ArrayList<>();
    query("SELECT user_id, MIN(id) AS first FROM agent_outbox WHERE due_at <= ? AND (owner IS NULL OR lease_until < ?)"
        + " GROUP BY user_id ORDER BY first LIMIT " + limit, rs -> users.add(rs.getString(1)), now, now);
    return users;
  }

  /**
   * Leases all of a user's rows to {@code owner} unless another live lease holds some.
   *
   * @param limit the most rows returned (the oldest); the lease covers the rest too
   * @return the user's first rows in order, or an empty list if another learner holds them
   */
  List<Row> claim(String userId, String owner, long now, long leaseUntil, int limit) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        // Lock the user's rows first: a second learner claiming the same user waits here,
        // then sees this one's lease and backs off.
        try (PreparedStatement lock = c.prepareStatement("SELECT id FROM agent_outbox WHERE user_id = ? FOR UPDATE")) {
          lock.setString(1, userId);
          try (ResultSet rs = lock.executeQuery()) {
            while (rs.next()) {
              // rows are locked as they are read
            }
          }
        }
        try (PreparedStatement held = c.prepareStatement(
            "SELECT COUNT(*) FROM agent_outbox WHERE user_id = ? AND owner IS NOT NULL AND owner <> ? AND lease_until >= ?")) {
          held.setString(1, userId);
          held.setString(2, owner);
          held.setLong(3, now);
          try (ResultSet rs = held.executeQuery()) {
            rs.next();
            if (rs.getLong(1) > 0) {
              c.rollback();
              return List.of();
            }
          }
        }
        // Work queued before the user was deleted is dropped, not learned (the deletion removed
        // what was here; this is what reached the outbox while it ran).
        try (PreparedStatement stale = c.prepareStatement("DELETE FROM agent_outbox WHERE user_id = ?"
            + " AND created_at <= (SELECT MAX(deleted_at) FROM deleted_users WHERE user_id = ?)")) {
          stale.setString(1, userId);
          stale.setString(2, userId);
          stale.executeUpdate();
        }
        try (PreparedStatement lease = c.prepareStatement("UPDATE agent_outbox SET owner = ?, lease_until = ? WHERE user_id = ?")) {
          lease.setString(1, owner);
          lease.setLong(2, leaseUntil);
          lease.setString(3, userId);
          lease.executeUpdate();
        }
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement select = c.prepareStatement(
            "SELECT id, kind, user_id, session_id, payload, attempts, due_at, created_at FROM agent_outbox"
                + " WHERE user_id = ? AND owner = ? ORDER BY id LIMIT ?")) {
          select.setString(1, userId);
          select.setString(2, owner);
          select.setInt(3, limit);
          try (ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
              rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                  rs.getInt(6), rs.getLong(7), rs.getLong(8)));
            }
          }
        }
        c.commit();
        return rows;
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw unavailable("claim", e);
    }
  }

  void release(String userId, String owner) {
    update("UPDATE agent_outbox SET owner = NULL, lease_until = NULL WHERE user_id = ? AND owner = ?", userId, owner);
  }

  void delete(List<Row> rows) {
    for (Row r : rows) {
      update("DELETE FROM agent_outbox WHERE id = ?", r.id());
    }
  }

  /** A failed attempt: counts it and sets when to try again. */
  void retryLater(List<Row> rows, long dueAt, String error) {
    String message = error == null ? null : error.length() > 1000 ? error.substring(0, 1000) : error;
    for (Row r : rows) {
      update("UPDATE agent_outbox SET attempts = attempts + 1, due_at = ?, last_error = ? WHERE id = ?", dueAt, message, r.id());
    }
  }

  /** Not a failure: the work is just not due yet (a debounced profile refresh). */
  void postpone(Row row, long dueAt) {
    update("UPDATE agent_outbox SET due_at = ? WHERE id = ?", dueAt, row.id());
  }

  void updatePayload(Row row, String payload) {
    update("UPDATE agent_outbox SET payload = ? WHERE id = ?", payload, row.id());
  }

  /** The user's pending profile refresh, if any. */
  Row profileRow(String userId) {
    List<Row> rows = new ArrayList<>();
    query("SELECT id, kind, user_id, session_id, payload, attempts, due_at, created_at FROM agent_outbox WHERE user_id = ? AND kind = 'PROFILE' ORDER BY id",
        rs -> rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
            rs.getInt(6), rs.getLong(7), rs.getLong(8))), userId);
    return rows.isEmpty() ? null : rows.getFirst();
  }

  /** When the oldest turn still waiting for extraction was accepted (epoch ms), or -1 if none waits. */
  long oldestTurn() {
    long[] at = {-1};
    // By id, not by created_at: the primary key finds the oldest row at once, and ids follow arrival.
    query("SELECT created_at FROM agent_outbox WHERE kind = 'TURN' ORDER BY id LIMIT 1", rs -> at[0] = rs.getLong(1));
    return at[0];
  }

  long count(String kind) {
    long[] n = new long[1];
    query("SELECT COUNT(*) FROM agent_outbox WHERE kind = ?", rs -> n[0] = rs.getLong(1), kind);
    return n[0];
  }

  long count() {
    long[] n = new long[1];
    query("SELECT COUNT(*) FROM agent_outbox", rs -> n[0] = rs.getLong(1));
    return n[0];
  }

  // ---------------------------------------------------------------- JDBC plumbing

  private interface RowReader {
    void read(ResultSet rs) throws SQLException;
  }

  private void query(String sql, RowReader reader, Object... params) {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          reader.read(rs);
        }
      }
    } catch (SQLException e) {
      throw unavailable("read", e);
    }
  }

  private void update(String sql, Object... params) {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      bind(ps, params);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw unavailable("write", e);
    }
  }

  private static void bind(PreparedStatement ps, Object... params) throws SQLException {
    for (int i = 0; i < params.length; i++) {
      ps.setObject(i + 1, params[i]);
    }
  }

  private static StoreUnavailableException unavailable(String what, SQLException e) {
    return new StoreUnavailableException("learning outbox " + what + " failed: " + e.getMessage(), e);
  }

  /** A payload (or a model's answer) as JSON. @throws IllegalArgumentException if it is not JSON */
  static JsonNode readJson(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + abbreviate(text), e);
    }
  }

  static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 120) + "...";
  }
}
