package dev.yaad.server.http;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;

/** The search API on PostgreSQL (127.0.0.1:5432), a new schema per class. */
class PostgresSearchApiTest extends SearchApiContract {

  @Override
  StoreConfig newDatabase() {
    return TestStores.postgres();
  }

  @Override
  void dropDatabase(StoreConfig database) {
    TestStores.dropSchema(database);
  }
}
