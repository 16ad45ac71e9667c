package dev.yaad.agent.learning;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;

class PostgresLearnerTest extends LearnerContract {
  private StoreConfig config;

  @Override
  StoreConfig config() {
    if (config == null) {
      config = TestStores.postgres();
    }
    return config;
  }

  @Override
  void cleanUp() {
    TestStores.dropSchema(config);
    config = null;
  }
}
