package dev.yaad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The LoCoMo command on a tiny file of that format, with the data flaws the README lists. */
class LocomoBenchmarkTest {
  private static final String DATA = """
      [{"sample_id": "conv-x",
        "conversation": {
          "speaker_a": "Aisha", "speaker_b": "Omar",
          "session_1_date_time": "1:56 pm on 8 May, 2023",
          "session_1": [
            {"speaker": "Aisha", "dia_id": "D1:1", "text": "I adopted a cat called Biscuit yesterday!"},
            {"speaker": "Omar", "dia_id": "D1:2", "text": "Lovely! I started learning the guitar.",
             "blip_caption": "a photo of a guitar", "img_url": ["http://example.invalid/x.jpg"]},
            {"speaker": "Aisha", "dia_id": "D1:3", "text": "Thanks!"}],
          "session_2_date_time": "10:00 am on 27 June, 2023",
          "session_3_date_time": "a date with no session",
          "session_2": [
            {"speaker": "Omar", "dia_id": "D2:1", "text": "We went camping by the lake in June."},
            {"speaker": "Aisha", "dia_id": "D2:2", "text": "Thanks!"}]},
        "qa": [
          {"question": "What is the name of Aisha's cat?", "answer": "Biscuit", "evidence": ["D1:1"], "category": 4},
          {"question": "When did Omar go camping?", "answer": 2023, "evidence": ["D2:1; D1:2"], "category": 2},
          {"question": "Which instrument is Omar learning?", "answer": "guitar", "evidence": ["D", "D:11:26", "D9:9", "D1:2"], "category": 1},
          {"question": "What did Aisha say about a dog?", "adversarial_answer": "nothing", "evidence": [], "category": 5},
          {"question": "Who adopted a cat?", "answer": "Aisha", "evidence": "D1:1", "category": 4},
          {"question": "What did Omar start learning in May 2023?", "answer": "guitar", "evidence": ["D1:2"], "category": 2}]}]
      """;

  @Test
  void locomo_scoresEveryQuestion_toleratingMalformedEvidence(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("tiny-locomo.json");
    Files.writeString(data, DATA);
    BenchRun run = BenchRun.of("locomo", "--data", data.toString(), "--k", "1,5", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode figures = run.lastLineJson();
    assertThat(figures.get("turns").asInt()).isEqualTo(5);
    assertThat(figures.get("questions").asInt()).isEqualTo(6);
    assertThat(figures.get("questionsWithoutEvidence").asInt()).isEqualTo(1);
    assertThat(figures.get("evidenceIdsDropped").asInt()).isEqualTo(3);
    // Five turns, k = 5: every evidence turn is found; the question without evidence counts 1.
    assertThat(figures.get("recall").get("5").get("overall").asDouble()).isEqualTo(100.0);
    assertThat(figures.get("recall").get("1").get("single-hop").asDouble()).isEqualTo(100.0);
    assertThat(figures.get("query").get("count").asInt()).isEqualTo(6);
    // Both measures; the strict one counts a question only when all its evidence is found.
    JsonNode strict = figures.get("recallStrict");
    assertThat(strict.get("5").get("overall").asDouble()).isEqualTo(100.0);
    assertThat(strict.get("1").get("overall").asDouble()).isLessThanOrEqualTo(figures.get("recall").get("1").get("overall").asDouble());
    // "When did Omar go camping?" names no time; "... in May 2023?" does.
    assertThat(figures.get("questionsPerCategory").get(LocomoBenchmark.TEMPORAL_DATED).asInt()).isEqualTo(1);
    assertThat(figures.get("questionsPerCategory").get(LocomoBenchmark.TEMPORAL_OTHER).asInt()).isEqualTo(1);
  }

  @Test
  void ablation_scoresEachComponentOffAndThePreviousDefault_onOneIngest(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("tiny-locomo.json");
    Files.writeString(data, DATA);
    BenchRun run = BenchRun.of("locomo", "--data", data.toString(), "--k", "1,5", "--ablation", "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode ablation = run.lastLineJson().get("ablation");
    assertThat(ablation.fieldNames()).toIterable().contains("default", "- question-word removal", "- second neighbours",
        "- named times", "- following", "- diversity", "all new off", "previous default");
    assertThat(ablation.get("previous default").get("search").get("neighbours").asInt()).isEqualTo(1);
    assertThat(ablation.get("default").get("recallStrict").get("5").get("overall").asDouble()).isEqualTo(100.0);
    assertThat(run.out()).contains("ablation, previous default:");
  }

  @Test
  void namesATime_isTheBenchmarksOwnRule() {
    assertThat(LocomoBenchmark.NAMES_A_TIME.matcher("Who did Maria have dinner with on May 3, 2023?").find()).isTrue();
    assertThat(LocomoBenchmark.NAMES_A_TIME.matcher("When did Melanie go camping in June?").find()).isTrue();
    assertThat(LocomoBenchmark.NAMES_A_TIME.matcher("What did she do two weeks before her birthday?").find()).isTrue();
    assertThat(LocomoBenchmark.NAMES_A_TIME.matcher("When did Caroline go to the LGBTQ support group?").find()).isFalse();
  }

  @Test
  void sessionTime_parsesTheFormatAndRefusesOthers() {
    assertThat(LocomoBenchmark.sessionTime("1:56 pm on 8 May, 2023")).hasToString("2023-05-08T13:56:00Z");
    assertThat(LocomoBenchmark.sessionTime("10:04 AM on 27 June, 2023")).hasToString("2023-06-27T10:04:00Z");
    assertThat(LocomoBenchmark.sessionTime("yesterday")).isNull();
    assertThat(LocomoBenchmark.sessionTime(null)).isNull();
  }
}
