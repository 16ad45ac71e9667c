package dev.yaad.memory.internal.store;

/**
 * The databases Yaad runs on and the few places where their SQL differs; every table of the
 * schema (the agent's outbox included) is migrated from {@link #migrations}.
 */
public enum Dialect {
  H2("db/migration/h2"),
  POSTGRES("db/migration/postgresql");

  final String migrations;

  Dialect(String migrations) {
    this.migrations = migrations;
  }

  /** @throws IllegalArgumentException for a URL of any other database */
  public static Dialect of(String jdbcUrl) {
    if (jdbcUrl.startsWith("jdbc:h2:")) {
      return H2;
    }
    if (jdbcUrl.startsWith("jdbc:postgresql:")) {
      return POSTGRES;
    }
    throw new IllegalArgumentException(
        "unsupported database URL '" + jdbcUrl + "': use jdbc:h2:... or jdbc:postgresql:...");
  }

  /** Creates the user row if it is missing; never changes an existing one. */
  String ensureUser() {
    return switch (this) {
      case POSTGRES -> "INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING";
      case H2 -> "MERGE INTO users t USING (VALUES (CAST(? AS VARCHAR(128)), CAST(? AS TIMESTAMP WITH TIME ZONE)))"
          + " s(id, created_at) ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, created_at) VALUES (s.id, s.created_at)";
    };
  }

  /**
   * The snapshot in one statement: first a row for the user (with the profile, if any),
   * then the newest n memories of each category. Every branch reads only the rows it
   * returns through the (user_id, category, created_at, id) index.
   *
   * <p>PostgreSQL takes the categories as one array parameter (one statement text for any
   * number of categories, so the server-side prepared plan is reused); H2 has no LATERAL
   * join, so it gets one parenthesised LIMIT branch per category.
   */
  String snapshot(int categoryCount) {
    String userRow = "SELECT CAST(NULL AS VARCHAR(32)) AS category, CAST(NULL AS UUID) AS id, p.content,"
        + " CAST(NULL AS VARCHAR(4096)) AS metadata, CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS occurred_at,"
        + " CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS created_at, p.updated_at, p.version"
        + " FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id = ?";
    String columns = "category, id, content, metadata, occurred_at, created_at, updated_at, CAST(NULL AS BIGINT) AS version";
    return switch (this) {
      case POSTGRES -> userRow + " UNION ALL SELECT m.* FROM unnest(CAST(? AS VARCHAR[])) AS c(name)"
          + " CROSS JOIN LATERAL (SELECT " + columns + " FROM memories"
          + " WHERE user_id = ? AND category = c.name ORDER BY created_at DESC, id DESC LIMIT ?) m";
      case H2 -> {
        StringBuilder sql = new StringBuilder(userRow);
        for (int i = 0; i < categoryCount; i++) {
          sql.append(" UNION ALL (SELECT ").append(columns)
              // Naming the equality-bound columns lets H2 read the index in order instead of sorting.
              .append(" FROM memories WHERE user_id = ? AND category = ?")
              .append(" ORDER BY user_id, category, created_at DESC, id DESC LIMIT ?)");
        }
        yield sql.toString();
      }
    };
  }
}
