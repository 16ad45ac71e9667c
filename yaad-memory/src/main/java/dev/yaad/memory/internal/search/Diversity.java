package dev.yaad.memory.internal.search;

import dev.yaad.memory.internal.Vectors;
import dev.yaad.memory.search.SearchConfig;

/**
 * Maximal marginal relevance over the best {@link SearchConfig#DIVERSITY_POOL} candidates:
 * each next place goes to the candidate whose fused score, lowered by {@code lambda} times
 * its highest cosine with the hits already placed, is best. Near repeats of a hit (the same
 * fact said twice, two turns of one exchange) then leave room for something else. Greedy,
 * so the first places do not depend on {@code k}; places beyond the pool keep fused order.
 */
final class Diversity {
  private Diversity() {}

  /**
   * @param fused     every memory's fused score (0 or less: not a candidate)
   * @param matrix    the memories' unit vectors, row-major
   * @param hasVector which rows hold a vector; a memory without one is similar to nothing
   */
  static int[] select(float[] fused, int k, double lambda, float[] matrix, boolean[] hasVector, int dimension) {
    int pool = SearchConfig.DIVERSITY_POOL;
    int[] ranked = TopK.of(fused, Math.max(k, pool), 0f);
    int candidates = Math.min(pool, ranked.length);
    int[] out = new int[Math.min(k, ranked.length)];
    boolean[] placed = new boolean[candidates];
    float[] maxSimilarity = new float[candidates];
    float[] row = new float[dimension];
    int places = Math.min(out.length, candidates);
    for (int r = 0; r < places; r++) {
      int best = -1;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < candidates; j++) {
        double score = fused[ranked[j]] * (1 - lambda * maxSimilarity[j]);
        if (!placed[j] && score > bestScore) {
          bestScore = score;
          best = j;
        }
      }
      placed[best] = true;
      int chosen = ranked[best];
      out[r] = chosen;
      if (r + 1 < places && hasVector[chosen]) {
        System.arraycopy(matrix, chosen * dimension, row, 0, dimension);
        for (int j = 0; j < candidates; j++) {
          if (!placed[j] && hasVector[ranked[j]]) {
            maxSimilarity[j] = Math.max(maxSimilarity[j], Math.max(0, Vectors.dot(row, matrix, ranked[j])));
          }
        }
      }
    }
    System.arraycopy(ranked, places, out, places, out.length - places);
    return out;
  }
}
