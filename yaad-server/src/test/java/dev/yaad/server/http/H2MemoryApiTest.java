package dev.yaad.server.http;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The REST API on the embedded H2 backend, a new database file per server. */
class H2MemoryApiTest extends MemoryApiContract {

  @Override
  StoreConfig newDatabase() {
    try {
      return TestStores.h2(Files.createTempDirectory("yaad-api-h2"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  void dropDatabase(StoreConfig database) {
    String file = database.jdbcUrl().substring("jdbc:h2:file:".length());
    Path dir = Path.of(file).getParent();
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e);
    }
  }
}
