package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Services;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.YaadServer;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two servers sharing one PostgreSQL and one Redis, as in production: a write acknowledged by
 * one is seen by the other's cached snapshot and search once the invalidation has arrived.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoInstancesTest {
  private StoreConfig database;
  private YaadServer a;
  private YaadServer b;
  private Http httpA;
  private Http httpB;

  @BeforeAll
  void start() {
    database = TestStores.postgres();
    CacheConfig cache = CacheConfig.defaults().withRedisUrl(Services.redisUri())
        .withRedisKeyPrefix("yaad-test-" + UUID.randomUUID().toString().substring(0, 8) + ":");
    a = new YaadServer(YaadServer.Config.of(database).withAddress("127.0.0.1", 0).withCache(cache)).start();
    b = new YaadServer(YaadServer.Config.of(database).withAddress("127.0.0.1", 0).withCache(cache)).start();
    httpA = new Http(a.port());
    httpB = new Http(b.port());
  }

  @AfterAll
  void stop() {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
    TestStores.dropSchema(database);
  }

  @Test
  void writeOnOne_isSeenByTheOthersCachedSnapshotAndSearch() {
    String user = "two-" + UUID.randomUUID().toString().substring(0, 8);
    assertThat(httpA.post("/api/v1/users/" + user + "/memories", "{\"category\":\"GOAL\",\"content\":\"learn to swim\"}").status())
        .isEqualTo(201);
    String snapshot = "/api/v1/users/" + user + "/snapshot?categories=GOAL&perCategory=5";
    assertThat(httpB.get(snapshot).json().path("memories").path("GOAL")).hasSize(1); // B caches it now
    assertThat(httpB.get(snapshot).json().path("memories").path("GOAL")).hasSize(1); // served from B's cache

    assertThat(httpA.post("/api/v1/users/" + user + "/memories", "{\"category\":\"GOAL\",\"content\":\"run a marathon\"}").status())
        .isEqualTo(201);
    JsonNode seen = eventually(() -> httpB.get(snapshot).json(), json -> json.path("memories").path("GOAL").size() == 2);
    assertThat(seen.path("memories").path("GOAL").get(0).path("content").asText()).isEqualTo("run a marathon");

    JsonNode hits = eventually(() -> httpB.post("/api/v1/users/" + user + "/search", "{\"query\":\"marathon\",\"k\":1}").json(),
        json -> json.path("hits").size() == 1 && json.path("hits").get(0).path("memory").path("content").asText().equals("run a marathon"));
    assertThat(hits.path("hits")).hasSize(1);
  }

  @Test
  void ready_reportsTheDatabaseAndRedis() throws InterruptedException {
    // The embedding model loads in the background ("embeddings": "loading", 503, until it has:
    // 17 s on a loaded machine); the database and Redis checks are what this test is about.
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Http.Response ready = httpA.get("/ready");
    while (ready.status() != 200 && ready.body().contains("\"embeddings\":\"loading\"") && System.nanoTime() < deadline) {
      Thread.sleep(50);
      ready = httpA.get("/ready");
    }
    assertThat(ready.status()).as(ready.body()).isEqualTo(200);
    assertThat(ready.body()).contains("database", "redis");
  }

  /** Polls (without fixed sleeps beyond a short back-off) until the condition holds or 5 s pass. */
  private static JsonNode eventually(Supplier<JsonNode> read, java.util.function.Predicate<JsonNode> condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    JsonNode last = read.get();
    while (!condition.test(last) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      last = read.get();
    }
    return last;
  }
}
