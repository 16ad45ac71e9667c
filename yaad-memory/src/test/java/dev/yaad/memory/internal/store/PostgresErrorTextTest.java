package dev.yaad.memory.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Errors of the store's PostgreSQL connections never carry the values written: the pool logs
 * a broken connection's exception, and outage lines quote messages, so a value in a message
 * is a memory's content in the logs.
 */
class PostgresErrorTextTest {
  private static final String SECRET = "my bank PIN is 4711";
  private final StoreConfig config = TestStores.postgres();
  private JdbcMemoryStore store;

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
    TestStores.dropSchema(config);
  }

  @Test
  void aConstraintViolation_doesNotEchoTheValue() throws Exception {
    store = JdbcMemoryStore.open(config);
    try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TEMP TABLE t (x TEXT PRIMARY KEY)");
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO t VALUES (?)")) {
        insert.setString(1, SECRET);
        insert.executeUpdate();
        Throwable error = catchThrowable(insert::executeUpdate);
        assertThat(error).hasMessageContaining("duplicate key");
        assertThat(error.getMessage()).doesNotContain(SECRET);
      }
    }
  }

  @Test
  void aFailedBatch_doesNotEchoItsParameters() throws Exception {
    store = JdbcMemoryStore.open(config);
    try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TEMP TABLE t (x TEXT PRIMARY KEY)");
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO t VALUES (?)")) {
        insert.setString(1, SECRET);
        insert.addBatch();
        insert.setString(1, SECRET);
        insert.addBatch();
        Throwable error = catchThrowable(insert::executeBatch);
        assertThat(error).isNotNull();
        for (Throwable t = error; t != null; t = t.getCause()) {
          assertThat(t.getMessage()).doesNotContain(SECRET);
        }
        assertThat(((java.sql.SQLException) error).getNextException().getMessage()).doesNotContain(SECRET);
      }
    }
  }
}
