package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Await;
import dev.yaad.memory.testing.Services;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.YaadServer;
import dev.yaad.testing.RedisProcess;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /ready}'s Redis check asks Redis itself, not the cache's judgement: the cache stops
 * using Redis after three 100 ms timeouts in a row, which a starved CPU alone can cause while
 * Redis answers and every request is served (seen in a 500-session run: 8 failed probes with no
 * fault). On a Redis of the test's own.
 */
class ReadyWhileTheCacheSkipsRedisTest {
  private RedisProcess redis;
  private StoreConfig database;
  private YaadServer server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (redis != null) {
      redis.resume();
      redis.close();
    }
    if (database != null) {
      TestStores.dropSchema(database);
    }
  }

  @Test
  void theCacheSkippingAnAnsweringRedis_leavesTheInstanceReady() throws Exception {
    redis = Services.ownRedis();
    database = TestStores.postgres();
    // The cache's own check comes only every 30 s here: once it has marked Redis down, it stays down through the test.
    CacheConfig cache = CacheConfig.defaults().withRedisUrl(redis.url())
        .withRedisTimeouts(Duration.ofMillis(100), Duration.ofSeconds(30));
    server = new YaadServer(YaadServer.Config.of(database).withAddress("127.0.0.1", 0).withCache(cache)).start();
    Http http = new Http(server.port());
    Await.until(() -> http.get("/ready").status() == 200, Duration.ofSeconds(60), "ready at start");

    redis.hang(); // a stall: the cache's reads time out one after another
    AtomicInteger reads = new AtomicInteger();
    try {
      Await.until(() -> {
        http.get("/api/v1/users/stall-" + reads.incrementAndGet() + "/snapshot?categories=FACT&perCategory=5");
        return http.get("/metrics").body().contains("yaad_cache_redis_up 0.0");
      }, Duration.ofSeconds(20), "the cache marking Redis down");
    } finally {
      redis.resume();
    }

    for (int i = 0; i < 4; i++) { // more than the 3 failures in a row /ready needs to report a check failing
      Http.Response ready = http.get("/ready");
      assertThat(ready.status()).as(ready.body()).isEqualTo(200);
    }
    assertThat(http.get("/metrics").body()).contains("yaad_cache_redis_up 0.0"); // still skipping Redis all along
  }
}
