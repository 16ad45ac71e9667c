package dev.yaad.memory.internal.store;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;

class PostgresStoredEmbeddingsTest extends StoredEmbeddingsContract {
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
