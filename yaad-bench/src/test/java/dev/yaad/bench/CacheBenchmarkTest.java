package dev.yaad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.memory.testing.Services;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache benchmark end to end at tiny sizes, on H2 and the real Redis: it runs, every
 * measured read hit its level (the command checks that itself), and its last line is the JSON.
 * Figures are not asserted: the machines are shared and noisy.
 */
@Timeout(120)
class CacheBenchmarkTest {
  @TempDir Path dir;

  @Test
  void cache_onH2_printsEveryLevelAndTheLag_jsonLast() throws Exception {
    String redis = Services.redisUri();
    BenchRun run = BenchRun.of("cache", "--backend", "h2", "--db-url", "jdbc:h2:file:" + dir.resolve("bench").toAbsolutePath(),
        "--redis-url", redis, "--users", "20", "--memories-per-user", "40", "--iterations", "200", "--warmup", "50",
        "--lag-iterations", "10", "--json");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("database (uncached)", "L2 hit (Redis)", "L1 hit (in process)", "invalidation lag");
    JsonNode json = run.lastLineJson();
    assertThat(json.get("benchmark").asText()).isEqualTo("cache");
    assertThat(json.get("users").asInt()).isEqualTo(20);
    // Every read takes some time (a measured 0 would mean the read was not measured); the
    // invalidation may arrive before the write returns, so its lag can be 0.
    for (String path : List.of("database", "l2Hit", "l1Hit", "l1HitBackToBack", "visibleLag")) {
      assertThat(json.get(path).get("p50Us").asDouble()).as(path).isPositive();
    }
    for (String path : List.of("database", "l2Hit", "l1Hit", "l1HitBackToBack", "invalidationLag", "visibleLag")) {
      assertThat(json.get(path).get("p99Us").asDouble()).as(path).isGreaterThanOrEqualTo(json.get(path).get("p50Us").asDouble());
    }
    // Each visible lag is its invalidation lag plus a read, sample by sample.
    assertThat(json.get("visibleLag").get("p50Us").asDouble()).isGreaterThan(json.get("invalidationLag").get("p50Us").asDouble());
    assertThat(json.get("invalidationLag").get("arrivedBeforeAckFraction").asDouble()).isBetween(0.0, 1.0);
    assertThat(json.get("databaseOverL1P50").asDouble()).isPositive();
    assertThat(json.get("targets").has("met")).isTrue();
  }

  @Test
  void cache_refusesAnUnreachableRedis_withAMessage() {
    BenchRun run = BenchRun.of("cache", "--backend", "h2", "--db-url", "jdbc:h2:file:" + dir.resolve("bench2").toAbsolutePath(),
        "--redis-url", "redis://127.0.0.1:1", "--users", "5", "--memories-per-user", "8", "--iterations", "10",
        "--warmup", "0", "--lag-iterations", "1");
    assertThat(run.exitCode()).isNotZero();
    assertThat(run.err()).contains("Redis at redis://127.0.0.1:1 is not answering");
  }
}
