package dev.yaad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.memory.testing.Services;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The snapshot benchmark end to end at tiny sizes: it runs, and its last line is the JSON. */
@Timeout(120)
class SnapshotBenchmarkTest {
  @TempDir Path dir;

  private String h2Url() {
    return "jdbc:h2:file:" + dir.resolve("bench").toAbsolutePath();
  }

  @Test
  void snapshot_onH2_printsFiguresAndJsonLast_thenReusesTheData() throws Exception {
    String[] args = {"snapshot", "--backend", "h2", "--db-url", h2Url(), "--users", "20", "--memories-per-user", "16",
        "--iterations", "50", "--warmup", "5", "--json"};
    BenchRun first = BenchRun.of(args);

    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(first.out()).contains("seeded 320 rows", "naive: 8 queries", "snapshot: 1 statement");
    JsonNode json = first.lastLineJson();
    assertThat(json.get("backend").asText()).isEqualTo("h2");
    assertThat(json.get("users").asInt()).isEqualTo(20);
    assertThat(json.get("memoriesPerUser").asInt()).isEqualTo(16);
    assertThat(json.get("iterations").asInt()).isEqualTo(50);
    assertThat(json.get("delayMs").asInt()).isZero();
    assertThat(json.get("rowsPerCall").asDouble()).isBetween(1.0, 16.0);
    assertThat(json.get("seeded").asBoolean()).isTrue();
    for (String path : List.of("naive", "snapshot")) {
      JsonNode figures = json.get(path);
      assertThat(figures.get("p50Ms").asDouble()).as(path).isPositive();
      assertThat(figures.get("p99Ms").asDouble()).as(path).isGreaterThanOrEqualTo(figures.get("p50Ms").asDouble());
      assertThat(figures.get("meanMs").asDouble()).as(path).isPositive();
    }
    assertThat(json.get("naive").get("roundTrips").asInt()).isEqualTo(8);
    assertThat(json.get("snapshot").get("roundTrips").asInt()).isEqualTo(1);
    assertThat(json.get("ratioP50").asDouble()).isPositive();
    assertThat(json.get("ratioP99").asDouble()).isPositive();

    BenchRun second = BenchRun.of(args);
    assertThat(second.exitCode()).as(second.err()).isZero();
    assertThat(second.out()).doesNotContain("seeding");
    assertThat(second.lastLineJson().get("seeded").asBoolean()).isFalse();
  }

  @Test
  void snapshot_withoutJson_printsOnlyTheTable() {
    BenchRun run = BenchRun.of("snapshot", "--backend", "h2", "--db-url", h2Url(), "--users", "5", "--memories-per-user", "8",
        "--iterations", "10", "--warmup", "0");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("ratio naive / snapshot").doesNotContain("{");
  }

  @Test
  void snapshot_rejectsADelayOnH2_namingTheOption() {
    BenchRun run = BenchRun.of("snapshot", "--backend", "h2", "--db-url", h2Url(), "--delay-ms", "1");

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.err()).contains("--delay-ms needs --backend postgres");
  }

  @Test
  void snapshot_rejectsOutOfRangeSizes_namingTheValue() {
    BenchRun run = BenchRun.of("snapshot", "--backend", "h2", "--db-url", h2Url(), "--per-category", "0");

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.err()).contains("--per-category must be 1 to 50 (was 0)");
  }

  /** The real path: PostgreSQL through the delaying relay, in a schema of its own. */
  @Test
  void snapshot_onPostgresThroughTheRelay_seesOneRoundTripAgainstEight() throws Exception {
    String url = Services.postgresUrl();
    String schema = "yaad_bench_test";
    try {
      BenchRun run = BenchRun.of("snapshot", "--backend", "postgres", "--db-url", url, "--db-user", Services.POSTGRES_USER,
          "--schema", schema, "--users", "30", "--memories-per-user", "40", "--iterations", "20", "--warmup", "5",
          "--delay-ms", "1", "--json");

      assertThat(run.exitCode()).as(run.err()).isZero();
      JsonNode json = run.lastLineJson();
      assertThat(json.get("backend").asText()).isEqualTo("postgres");
      assertThat(json.get("delayMs").asInt()).isEqualTo(1);
      assertThat(json.get("naive").get("roundTripsSeenAtRelay").asDouble()).isEqualTo(8.0);
      assertThat(json.get("snapshot").get("roundTripsSeenAtRelay").asDouble()).isEqualTo(1.0);
    } finally {
      try (Connection c = DriverManager.getConnection(url, Services.POSTGRES_USER, null);
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }
}
