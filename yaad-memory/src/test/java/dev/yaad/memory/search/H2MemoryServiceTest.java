package dev.yaad.memory.search;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

class H2MemoryServiceTest extends MemoryServiceContract {
  private Path dir;

  @Override
  StoreConfig config() {
    try {
      dir = Files.createTempDirectory("yaad-h2-search-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return TestStores.h2(dir);
  }

  @Override
  void cleanUp() {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
