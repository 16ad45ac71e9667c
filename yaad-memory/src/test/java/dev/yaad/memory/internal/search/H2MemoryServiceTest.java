package dev.yaad.memory.internal.search;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class H2MemoryServiceTest extends MemoryServiceContract {
  @TempDir static Path dir; // one per class; JUnit deletes it after @AfterAll has closed the store

  @Override
  StoreConfig config() {
    return TestStores.h2(dir);
  }

  @Override
  void cleanUp() {
    // nothing: the directory goes with the class
  }
}
