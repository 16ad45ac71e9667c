package dev.yaad.server.http;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The search API on the embedded H2 backend. */
class H2SearchApiTest extends SearchApiContract {

  @Override
  StoreConfig newDatabase() {
    try {
      return TestStores.h2(Files.createTempDirectory("yaad-search-api-h2"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  void dropDatabase(StoreConfig database) {
    Path dir = Path.of(database.jdbcUrl().substring("jdbc:h2:file:".length())).getParent();
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e);
    }
  }
}
