package dev.yaad.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.yaad.memory.testing.Services;
import dev.yaad.testing.PostgresProcess;
import dev.yaad.testing.RedisProcess;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Call;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Tiny runs of {@code load} (3 callers for 15 s: a first greeting on a busy machine can take
 * several) so the benchmark cannot rot: it starts its own PostgreSQL, Redis, scripted LLM (and
 * scripted embeddings provider) and server, talks, drains, and accounts for every turn.
 */
class LoadBenchmarkTest {

  @Test
  void load_smallRun_losesNothing() throws Exception {
    JsonNode r = smallRun();
    assertThat(r.path("embeddings").path("provider").asText()).isEqualTo("in-process");
    assertThat(r.path("embeddingsDoubleOverheadMs").has("p50")).isFalse();
  }

  @Test
  void load_withScriptedEmbeddings_storesEveryMemoryWithTheirVectors() throws Exception {
    JsonNode r = smallRun("--embeddings", "scripted", "--embeddings-ms", "20");
    JsonNode embeddings = r.path("embeddings");
    assertThat(embeddings.path("provider").asText()).isEqualTo("scripted");
    long stored = r.path("accounting").path("memoriesStored").asLong();
    assertThat(stored).isPositive();
    assertThat(embeddings.path("texts").asLong()).isGreaterThanOrEqualTo(stored);
    // Every memory in the database has a vector, and it is the scripted provider's.
    assertThat(embeddings.path("memoriesByModel").properties()).singleElement()
        .satisfies(e -> assertThat(e.getKey()).isEqualTo(LoadBenchmark.SCRIPTED_EMBEDDINGS_MODEL))
        .satisfies(e -> assertThat(e.getValue().asLong()).isGreaterThanOrEqualTo(stored));
    assertThat(r.path("embeddingsDoubleOverheadMs").path("samples").asInt()).isPositive();
  }

  @Test
  void noteLate_addsUpAConversationsCallsByTurn_andLeavesOtherCallsOut() {
    LoadBenchmark bench = new LoadBenchmark();
    bench.noteLate(call(Purpose.CONVERSATION, "remember that I like tea (ref q1x2)"), 5);
    bench.noteLate(call(Purpose.CONVERSATION, "remember that I like tea (ref q1x2)"), 7); // the answer after the tool
    bench.noteLate(call(Purpose.EXTRACT, "USER: remember that I like tea (ref q1x2)"), 100); // learning, not the turn
    bench.noteLate(call(Purpose.CONVERSATION, "a probe without a marker"), 9);
    assertThat(bench.llmLateByTurn).containsExactly(Map.entry("q1x2", 12L));
  }

  @Test
  void theScriptedModel_leavesTheMarkerOutOfWhatItSavesAndExtracts_butNotesTheTurn() {
    LoadBenchmark bench = new LoadBenchmark();
    Answer saved = LoadBenchmark.remember(call(Purpose.CONVERSATION, "remember that my sister was born in Hunza (ref q3x7)"));
    assertThat(saved).isEqualTo(Answer.toolCall("saveMemory", "{\"category\":\"FACT\",\"content\":\"my sister was born in Hunza\"}"));

    Answer extracted = bench.extract(call(Purpose.EXTRACT, "USER: I tried a new recipe for lentil soup (ref q3x8)\nASSISTANT: Nice."));
    assertThat(((Answer.Text) extracted).text()).contains("\"content\":\"I tried a new recipe for lentil soup\"").doesNotContain("ref");
    assertThat(bench.learned).containsExactly("q3x8");
  }

  private static Call call(Purpose purpose, String lastUserMessage) {
    return new Call(purpose, true, "", lastUserMessage, List.of(), List.of(), JsonNodeFactory.instance.objectNode());
  }

  /** A run of 3 callers for 15 s with these options, checked for what every run must hold. */
  private static JsonNode smallRun(String... options) throws Exception {
    boolean installed = PostgresProcess.installed() && RedisProcess.installed();
    if (Services.required()) {
      assertThat(installed).as("PostgreSQL's server programs and redis-server are installed (CI requires them)").isTrue();
    }
    assumeThat(installed).as("PostgreSQL's server programs and redis-server are installed").isTrue();

    List<String> args = new ArrayList<>(List.of("load", "--sessions", "3", "--duration", "15", "--think-ms", "300", "--ramp", "1",
        "--warmup", "0", "--drain-timeout", "60", "--json"));
    args.addAll(List.of(options));
    BenchRun run = BenchRun.of(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode r = run.lastLineJson();
    assertThat(r.path("greetings").asInt()).isEqualTo(3);
    assertThat(r.path("turnOutcomes").path("completed").asInt()).isPositive();
    assertThat(r.path("errors").asInt()).as(r.path("errorExamples").toString()).isZero();
    assertThat(r.path("toolFailures").asInt()).isZero();
    JsonNode accounting = r.path("accounting");
    assertThat(accounting.path("turnsAccepted").asInt()).isEqualTo(r.path("turnOutcomes").path("completed").asInt());
    assertThat(accounting.path("turnsLearned").asInt()).isEqualTo(accounting.path("turnsAccepted").asInt());
    assertThat(accounting.path("turnsLost").asInt()).isZero();
    assertThat(accounting.path("memoriesAcknowledged").asInt()).isPositive();
    assertThat(accounting.path("memoriesLost").asInt()).isZero();
    assertThat(r.path("learning").path("drained").asBoolean()).isTrue();
    assertThat(r.path("turnOverheadMs").has("p99")).isTrue();
    // Net of the double's lateness, turn by turn: never more than the overhead itself.
    JsonNode net = r.path("turnOverheadNetOfDoubleMs");
    assertThat(net.path("samples").asInt()).isEqualTo(r.path("turnOverheadMs").path("samples").asInt());
    assertThat(net.path("p99").asDouble()).isLessThanOrEqualTo(r.path("turnOverheadMs").path("p99").asDouble());
    assertThat(r.path("llmDoubleOverheadMs").path("samples").asInt()).isPositive();
    return r;
  }

  @Test
  void load_unknownEmbeddings_isAUsageError() {
    BenchRun run = BenchRun.of("load", "--embeddings", "remote");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--embeddings must be in-process or scripted (was remote)");
  }

  @Test
  void load_faultsWithAShortRun_isAUsageError() {
    BenchRun run = BenchRun.of("load", "--faults", "--duration", "30");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--faults needs --duration of at least 60 s");
  }

  @Test
  void histogramPercentile_isTheBucketBoundOfTheRunsDifference() {
    Map<String, Double> before = Map.of("x_seconds_bucket{le=\"0.001\"}", 5.0, "x_seconds_bucket{le=\"0.01\"}", 5.0,
        "x_seconds_bucket{le=\"+Inf\"}", 5.0);
    // 100 more: 90 under 1 ms, 9 under 10 ms, 1 above.
    Map<String, Double> after = Map.of("x_seconds_bucket{le=\"0.001\"}", 95.0, "x_seconds_bucket{le=\"0.01\"}", 104.0,
        "x_seconds_bucket{le=\"+Inf\"}", 105.0);
    assertThat(LoadBenchmark.histogramPercentileMs(before, after, "x_seconds", 50)).isEqualTo(1.0);
    assertThat(LoadBenchmark.histogramPercentileMs(before, after, "x_seconds", 99)).isEqualTo(10.0);
    assertThat(LoadBenchmark.histogramPercentileMs(before, after, "x_seconds", 100)).isInfinite();
    assertThat(LoadBenchmark.histogramPercentileMs(before, before, "x_seconds", 99)).isNaN();
  }
}
