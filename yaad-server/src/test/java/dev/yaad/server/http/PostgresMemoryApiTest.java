package dev.yaad.server.http;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;

/**
 * The REST API on PostgreSQL (127.0.0.1:5432), a new schema per server; skipped with a
 * visible message when PostgreSQL is not answering, failed instead in CI.
 */
class PostgresMemoryApiTest extends MemoryApiContract {

  @Override
  StoreConfig newDatabase() {
    return TestStores.postgres();
  }

  @Override
  void dropDatabase(StoreConfig database) {
    TestStores.dropSchema(database);
  }
}
