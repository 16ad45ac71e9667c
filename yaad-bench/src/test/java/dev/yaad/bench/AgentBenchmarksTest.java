package dev.yaad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small runs of the agent benchmarks: they work end to end and their JSON line holds the invariants. */
class AgentBenchmarksTest {
  @TempDir Path dir;

  private static JsonNode run(String... args) throws Exception {
    BenchRun run = BenchRun.of(args);
    assertThat(run.exitCode()).as(run.err()).isZero();
    return run.lastLineJson();
  }

  @Test
  void greetingChaos_smallRun_keepsItsInvariants() throws Exception {
    JsonNode r = run("greeting-chaos", "--sessions", "60", "--warmup", "0", "--concurrency", "20", "--users", "10",
        "--ttft-ms", "20", "--per-token-ms", "2", "--leave-max-ms", "300", "--stay-ms", "5000", "--json");
    assertThat(r.path("sessions").asInt()).isEqualTo(60);
    assertThat(r.path("errors").asInt()).isZero();
    assertThat(r.path("greetingsSentAfterLeave").asInt()).isZero();
    assertThat(r.path("duplicateGreetings").asInt()).isZero();
    assertThat(r.path("stayedNotGreeted").asInt()).isZero();
    assertThat(r.has("readyToFirstTokenP99Ms")).isTrue();
  }

  @Test
  void replay_smallConversation_losesNoTurn() throws Exception {
    Path data = dir.resolve("tiny-locomo.json");
    Files.writeString(data, """
        [{"sample_id": "conv-x", "conversation": {
          "speaker_a": "Amna", "speaker_b": "Bilal",
          "session_1_date_time": "1:56 pm on 8 May, 2023",
          "session_1": [
            {"speaker": "Amna", "dia_id": "D1:1", "text": "I want to learn to paint with watercolours"},
            {"speaker": "Bilal", "dia_id": "D1:2", "text": "That sounds lovely!"},
            {"speaker": "Amna", "dia_id": "D1:3", "text": "My brother Saad is visiting next week", "blip_caption": "a photo of two people"},
            {"speaker": "Amna", "dia_id": "D1:4", "text": "I love walking in the old city in the evening"}],
          "session_2": [
            {"speaker": "Amna", "dia_id": "D2:1", "text": "I went to a pottery class yesterday and loved it"},
            {"speaker": "Amna", "dia_id": "D2:2", "text": "I am planning to visit Murree in the summer"}]},
          "qa": []}]
        """);
    JsonNode r = run("replay", "--data", data.toString(), "--failure-rate", "0.3", "--json");
    assertThat(r.path("userTurns").asInt()).isEqualTo(5);
    assertThat(r.path("turnsLost").asInt()).isZero();
    assertThat(r.path("outboxPendingAfterDrain").asInt()).isZero();
    assertThat(r.path("extractionCalls").asInt()).isGreaterThanOrEqualTo(2); // one per session, plus retries
    assertThat(r.path("memoriesStored").asInt()).isEqualTo(5);
  }
}
