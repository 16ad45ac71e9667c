package dev.yaad.memory.internal.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TopKTest {

  @Test
  void of_returnsTheBestAboveTheFloor_bestFirst_tiesToTheLowerIndex() {
    float[] scores = {0.5f, 0.9f, 0f, 0.9f, -1f, 0.7f};

    assertThat(TopK.of(scores, 3, 0f)).containsExactly(1, 3, 5);
    assertThat(TopK.of(scores, 10, 0f)).containsExactly(1, 3, 5, 0);
    assertThat(TopK.of(scores, 10, Float.NEGATIVE_INFINITY)).containsExactly(1, 3, 5, 0, 2, 4);
  }

  @Test
  void of_agreesWithAFullSort() {
    SplittableRandom random = new SplittableRandom(7);
    for (int round = 0; round < 50; round++) {
      float[] scores = new float[1 + random.nextInt(500)];
      for (int i = 0; i < scores.length; i++) {
        scores[i] = random.nextInt(50) / 10f; // many ties
      }
      int k = 1 + random.nextInt(120);
      int[] expected = IntStream.range(0, scores.length).boxed()
          .filter(i -> scores[i] > 0)
          .sorted(Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparingInt(i -> i))
          .limit(k).mapToInt(Integer::intValue).toArray();
      assertThat(TopK.of(scores, k, 0f)).as(Arrays.toString(scores)).containsExactly(expected);
    }
  }
}
