package dev.yaad.agent.learning;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class H2LearnerTest extends LearnerContract {
  @TempDir Path dir;

  @Override
  StoreConfig config() {
    return TestStores.h2(dir);
  }
}
