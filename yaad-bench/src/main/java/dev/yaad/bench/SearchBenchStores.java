package dev.yaad.bench;

import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.internal.cache.CachingMemoryStore;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.store.StoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/** Fresh, throw-away stores for the search benchmarks: a temporary H2 file, or a new PostgreSQL schema. */
final class SearchBenchStores {
  private SearchBenchStores() {}

  /**
   * An open store and how to get rid of it. {@code cached} is the same store behind the cache
   * with its in-process tier off: what the write path and search run on (it tells them of
   * every write), while reads still reach the database, as the benchmarks measure.
   */
  record Opened(JdbcMemoryStore store, CachingMemoryStore cached, Runnable cleanUp) implements AutoCloseable {
    Opened(JdbcMemoryStore store, Runnable cleanUp) {
      this(store, CachingMemoryStore.create(store, CacheConfig.defaults().withL1MaxWeightBytes(0)), cleanUp);
    }

    @Override
    public void close() {
      cached.close(); // closes the store too
      cleanUp.run();
    }
  }

  static Opened open(Backend backend, String url) throws IOException {
    if (backend == Backend.H2) {
      Path dir = Files.createTempDirectory("yaad-search-bench-");
      StoreConfig config = StoreConfig.of(url != null ? url : "jdbc:h2:file:" + dir.resolve("yaad").toAbsolutePath()).withPoolSize(4);
      return new Opened(JdbcMemoryStore.open(config), () -> delete(dir));
    }
    String schema = "yaad_search_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    StoreConfig config = StoreConfig.of(url != null ? url : Backend.POSTGRES.defaultUrl)
        .withCredentials("postgres", null).withSchema(schema).withPoolSize(4);
    return new Opened(JdbcMemoryStore.open(config), () -> dropSchema(config));
  }

  private static void dropSchema(StoreConfig config) {
    try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.username(), config.password());
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + config.schema() + " CASCADE");
    } catch (Exception e) {
      System.err.println("could not drop benchmark schema " + config.schema() + ": " + e.getMessage());
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
