package dev.yaad.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.yaad.memory.internal.Vectors;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The real all-MiniLM-L6-v2 model, run in-process. */
class OnnxEmbedderTest {
  private final OnnxEmbedder embedder = OnnxEmbedder.shared();

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
}
