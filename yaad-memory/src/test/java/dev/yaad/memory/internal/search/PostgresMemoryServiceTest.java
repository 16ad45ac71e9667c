package dev.yaad.memory.internal.search;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;

class PostgresMemoryServiceTest extends MemoryServiceContract {
  private StoreConfig config;

  @Override
  StoreConfig config() {
    config = TestStores.postgres();
    return config;
  }

  @Override
  void cleanUp() {
    TestStores.dropSchema(config);
  }
}
