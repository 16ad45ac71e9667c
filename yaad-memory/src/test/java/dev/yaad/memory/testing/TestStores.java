package dev.yaad.memory.testing;

import dev.yaad.memory.store.StoreConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;

/** Fresh, isolated databases for one test class: a new H2 file, or a new PostgreSQL schema. */
public final class TestStores {
  private TestStores() {}

  public static StoreConfig h2(Path dir) {
    return StoreConfig.of("jdbc:h2:file:" + dir.resolve("yaad").toAbsolutePath());
  }

  /** A new empty schema in the test database; drop it with {@link #dropSchema}. */
  public static StoreConfig postgres() {
    String url = Services.postgresUrl();
    String schema = "yaad_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    return StoreConfig.of(url).withCredentials(Services.POSTGRES_USER, null).withSchema(schema);
  }

  public static void dropSchema(StoreConfig config) {
    if (config == null || config.schema() == null) {
      return;
    }
    try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.username(), config.password());
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + config.schema() + " CASCADE");
    } catch (Exception e) {
      System.err.println("could not drop test schema " + config.schema() + ": " + e.getMessage());
    }
  }
}
