package dev.yaad.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.yaad.memory.internal.Vectors;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The real all-MiniLM-L6-v2, e5-small-v2 and bge-small-en-v1.5 models, run in-process. */
class OnnxEmbedderTest {
  private final OnnxEmbedder embedder = OnnxEmbedder.allMiniLmL6V2();

  @Test
  void embed_givesUnitVectorsOfTheModelsDimension() {
    List<float[]> vectors = embedder.embed(List.of("I love green tea", "میرا نام عائشہ ہے"));

    assertThat(vectors).hasSize(2);
    for (float[] v : vectors) {
      assertThat(v).hasSize(OnnxEmbedder.DIMENSION);
      assertThat(Vectors.dot(v, v)).isCloseTo(1f, within(1e-4f));
    }
    assertThat(embedder.modelId()).isEqualTo("all-minilm-l6-v2");
  }

  @Test
  void embed_batchKeepsInputOrderAndMatchesSingleTexts() {
    List<String> texts = List.of("a much longer sentence about hiking in the mountains with my sister last weekend",
        "tea", "I moved to Lahore last year for a new job");

    List<float[]> batch = embedder.embed(texts);

    for (int i = 0; i < texts.size(); i++) {
      assertThat(Vectors.dot(batch.get(i), embedder.embed(texts.get(i)))).isGreaterThan(0.999f);
    }
  }

  @Test
  void embed_concurrentBackgroundCallers_sharingModelCalls_eachGetTheirOwnTextsVectors() throws Exception {
    List<String> texts = List.of("I live in Lisbon with my two cats", "tea", "My sister Ana is a nurse in Porto",
        "I started learning the piano last month", "my favourite band is Radiohead", "I am allergic to peanuts");
    List<float[]> alone = texts.stream().map(embedder::embed).toList();
    try (ExecutorService threads = Executors.newFixedThreadPool(texts.size())) {
      List<Future<float[]>> together = new ArrayList<>();
      for (int round = 0; round < 20; round++) {
        for (String t : texts) {
          together.add(threads.submit(() -> {
            float[][] out = new float[1][];
            Embedder.inBackground(() -> out[0] = embedder.embed(t));
            return out[0];
          }));
        }
      }
      for (int i = 0; i < together.size(); i++) {
        assertThat(Vectors.dot(together.get(i).get(), alone.get(i % texts.size()))).isGreaterThan(0.999f);
      }
    }
  }

  @Test
  void embed_paraphrasesAreCloserThanUnrelatedTexts() {
    List<float[]> v = embedder.embed(List.of("My sister's name is Ayesha", "My sister is named Ayesha", "I moved to Lahore last year"));

    assertThat(Vectors.dot(v.get(0), v.get(1))).isGreaterThan(0.9f);
    assertThat(Vectors.dot(v.get(0), v.get(2))).isLessThan(0.5f);
  }

  @Test
  void embed_blankText_isRefusedNamingItsPosition() {
    assertThatThrownBy(() -> embedder.embed(List.of("fine", " ")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("texts[1]");
    assertThat(embedder.embed(List.of())).isEmpty();
  }

  @Test
  void warmUpInBackground_completes() throws Exception {
    embedder.warmUpInBackground().get();
  }

  @Test
  void e5_embedsQueriesApartFromMemories_andAQuestionIsNearestItsAnswer() {
    // "query: " and "passage: " go before the text: the same words are two different vectors.
    assertQueriesApart_andAQuestionNearestItsAnswer(OnnxEmbedder.e5SmallV2(), "e5-small-v2-q");
  }

  @Test
  void bge_embedsQueriesBehindItsInstruction_andAQuestionIsNearestItsAnswer() {
    OnnxEmbedder bge = OnnxEmbedder.bgeSmallEnV15();
    assertQueriesApart_andAQuestionNearestItsAnswer(bge, "bge-small-en-v1.5-q");
    assertThat(bge.duplicateThreshold()).isEqualTo(OnnxEmbedder.shared().duplicateThreshold());
  }

  private static void assertQueriesApart_andAQuestionNearestItsAnswer(OnnxEmbedder model, String id) {
    List<float[]> memories = model.embed(List.of("I adopted a cat named Luna last spring", "I moved to Lahore last year for a new job"));
    float[] question = model.embedQueries(List.of("What pet does she have?")).getFirst();

    assertThat(model.modelId()).isEqualTo(id);
    assertThat(question).hasSize(OnnxEmbedder.DIMENSION);
    assertThat(Vectors.dot(question, question)).isCloseTo(1f, within(1e-4f));
    assertThat(Vectors.dot(question, memories.get(0))).isGreaterThan(Vectors.dot(question, memories.get(1)));
    assertThat(Vectors.dot(question, model.embed("What pet does she have?"))).isLessThan(0.99f);
  }

  @Test
  void miniLm_embedsQueriesAsAnyText() {
    float[] asQuery = embedder.embedQueries(List.of("What pet does she have?")).getFirst();

    assertThat(Vectors.dot(asQuery, embedder.embed("What pet does she have?"))).isGreaterThan(0.9999f);
  }

  @Test
  void named_givesEachInProcessModel_andRefusesOthers() {
    assertThat(OnnxEmbedder.named("all-minilm-l6-v2")).isSameAs(OnnxEmbedder.allMiniLmL6V2());
    assertThat(OnnxEmbedder.shared()).as("the default").isSameAs(OnnxEmbedder.bgeSmallEnV15());
    assertThat(OnnxEmbedder.named("e5-small-v2-q")).isSameAs(OnnxEmbedder.e5SmallV2());
    assertThat(OnnxEmbedder.named("bge-small-en-v1.5-q")).isSameAs(OnnxEmbedder.bgeSmallEnV15());
    assertThatThrownBy(() -> OnnxEmbedder.named("bge-small")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bge-small").hasMessageContaining("e5-small-v2-q");
  }
}
