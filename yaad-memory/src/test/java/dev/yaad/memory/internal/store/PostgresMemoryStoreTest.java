package dev.yaad.memory.internal.store;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;

class PostgresMemoryStoreTest extends MemoryStoreContract {
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
  }
}
