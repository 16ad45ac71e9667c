package dev.yaad.bench;

import dev.yaad.memory.Memory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.PGStatement;

/**
 * The predecessor's "tell me everything about me": one query per category, one after
 * another, on one pooled connection, with a prepared statement. It is the baseline the
 * one-round-trip snapshot is measured against, so by default it gets every advantage a
 * careful implementation of that design would have: the same index, server-side prepared
 * statements (after the driver's threshold, so PostgreSQL plans once), the same columns and
 * row mapping as the store, and no profile query (the real predecessor also read the
 * profile, a ninth round trip).
 *
 * <p>{@code serverPrepared = false} is the predecessor as it really ran (a Python driver
 * sending each query as text): PostgreSQL parses and plans every one of the eight queries.
 */
final class PerCategoryQueries {
  private static final String SQL = "SELECT id, category, content, metadata, occurred_at, created_at, updated_at"
      // The same ORDER BY as the store's snapshot, so H2 reads the index in order for both.
      + " FROM memories WHERE user_id = ? AND category = ? ORDER BY user_id, category, created_at DESC, id DESC LIMIT ?";

  private final DataSource dataSource;
  private final boolean serverPrepared;

  PerCategoryQueries(DataSource dataSource, boolean serverPrepared) {
    this.dataSource = dataSource;
    this.serverPrepared = serverPrepared;
  }

  Map<String, List<Memory>> fetch(String userId, List<String> categories, int perCategory) throws SQLException {
    Map<String, List<Memory>> byCategory = new LinkedHashMap<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SQL)) {
      if (!serverPrepared && ps.isWrapperFor(PGStatement.class)) {
        ps.unwrap(PGStatement.class).setPrepareThreshold(0); // 0: never a named server-side statement
      }
      for (String category : categories) {
        ps.setString(1, userId);
        ps.setString(2, category);
        ps.setInt(3, perCategory);
        List<Memory> memories = new ArrayList<>(perCategory);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            memories.add(new Memory(rs.getObject(1, UUID.class), userId, rs.getString(2), rs.getString(3),
                rs.getString(4), instant(rs.getObject(5, OffsetDateTime.class)),
                instant(rs.getObject(6, OffsetDateTime.class)), instant(rs.getObject(7, OffsetDateTime.class))));
          }
        }
        byCategory.put(category, List.copyOf(memories));
      }
    }
    return byCategory;
  }

  private static Instant instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }
}
