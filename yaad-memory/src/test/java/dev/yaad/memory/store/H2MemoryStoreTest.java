package dev.yaad.memory.store;

import dev.yaad.memory.testing.TestStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

class H2MemoryStoreTest extends MemoryStoreContract {
  private Path dir;

  @Override
  StoreConfig config() {
    try {
      if (dir == null) {
        dir = Files.createTempDirectory("yaad-h2-");
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return TestStores.h2(dir);
  }

  @Override
  void cleanUp() {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
