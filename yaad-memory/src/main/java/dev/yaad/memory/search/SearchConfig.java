package dev.yaad.memory.search;

/**
 * How search ranks and how much per-user state it keeps. Start from {@link #defaults()} and
 * change what you need with the {@code with...} methods; every value is checked when set.
 *
 * <p>Ranking is reciprocal-rank fusion of two lists over the user's memories: dense (cosine
 * of the query's vector with each memory's stored vector) and lexical (BM25 over the terms
 * of {@link TextAnalysis}). A memory's fused score is
 * {@code denseWeight / (rrfK + denseRank) + lexicalWeight / (rrfK + lexicalRank)}.
 *
 * <p>The defaults (dense 0.5, lexical 1, rrfK 60, neighbours 0.5, time boost 0.5) and how they were chosen are
 * in {@code docs/search.md}: words count double because the default dense model is small and
 * English-only, and a memory's neighbours carry its context.
 *
 * @param denseWeight      weight of the dense ranking in the fusion, 0 or more
 * @param lexicalWeight    weight of the lexical ranking, 0 or more (not both 0)
 * @param rrfK             the fusion's rank offset; larger flattens the head of each list
 * @param bm25K1           BM25 term-frequency saturation
 * @param bm25B            BM25 length normalisation, 0 to 1
 * @param neighbourWeight  0 to 1: how much of the better of a memory's two neighbours (the
 *                         memories written just before and after it, when they happened
 *                         within an hour of it) adds to its own dense and lexical scores
 *                         before ranking: turns of a conversation or facts taken from one
 *                         call carry each other's context. 0 turns it off
 * @param timeBoost        0 or more: when the query names a month or a year ("in June",
 *                         "2023", "جون"), memories that happened then have their fused
 *                         score multiplied by {@code 1 + timeBoost}. 0 turns it off
 * @param maxIndexBytes    the bound on all users' in-memory search state together; the least
 *                         recently used users' state is dropped first and reloaded on demand
 */
public record SearchConfig(
    double denseWeight, double lexicalWeight, int rrfK, double bm25K1, double bm25B,
    double neighbourWeight, double timeBoost, long maxIndexBytes) {

  public static final double DEFAULT_DENSE_WEIGHT = 0.5;
  public static final double DEFAULT_LEXICAL_WEIGHT = 1.0;
  public static final int DEFAULT_RRF_K = 60;
  public static final double DEFAULT_BM25_K1 = 1.2;
  public static final double DEFAULT_BM25_B = 0.75;
  public static final double DEFAULT_NEIGHBOUR_WEIGHT = 0.5;
  public static final double DEFAULT_TIME_BOOST = 0.5;
  public static final long DEFAULT_MAX_INDEX_BYTES = 256L * 1024 * 1024;

  public SearchConfig {
    check(denseWeight >= 0 && Double.isFinite(denseWeight), "denseWeight", denseWeight, "0 or more");
    check(lexicalWeight >= 0 && Double.isFinite(lexicalWeight), "lexicalWeight", lexicalWeight, "0 or more");
    check(denseWeight + lexicalWeight > 0, "denseWeight + lexicalWeight", denseWeight + lexicalWeight, "more than 0");
    check(rrfK >= 0, "rrfK", rrfK, "0 or more");
    check(bm25K1 >= 0 && Double.isFinite(bm25K1), "bm25K1", bm25K1, "0 or more");
    check(bm25B >= 0 && bm25B <= 1, "bm25B", bm25B, "between 0 and 1");
    check(neighbourWeight >= 0 && neighbourWeight <= 1, "neighbourWeight", neighbourWeight, "between 0 and 1");
    check(timeBoost >= 0 && Double.isFinite(timeBoost), "timeBoost", timeBoost, "0 or more");
    check(maxIndexBytes >= 1024 * 1024, "maxIndexBytes", maxIndexBytes, "at least 1 MiB");
  }

  public static SearchConfig defaults() {
    return new SearchConfig(DEFAULT_DENSE_WEIGHT, DEFAULT_LEXICAL_WEIGHT, DEFAULT_RRF_K, DEFAULT_BM25_K1,
        DEFAULT_BM25_B, DEFAULT_NEIGHBOUR_WEIGHT, DEFAULT_TIME_BOOST, DEFAULT_MAX_INDEX_BYTES);
  }

  public SearchConfig withWeights(double dense, double lexical) {
    return new SearchConfig(dense, lexical, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes);
  }

  public SearchConfig withRrfK(int k) {
    return new SearchConfig(denseWeight, lexicalWeight, k, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes);
  }

  public SearchConfig withBm25(double k1, double b) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, k1, b, neighbourWeight, timeBoost, maxIndexBytes);
  }

  public SearchConfig withNeighbourWeight(double weight) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, weight, timeBoost, maxIndexBytes);
  }

  public SearchConfig withTimeBoost(double boost) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, boost, maxIndexBytes);
  }

  public SearchConfig withMaxIndexBytes(long bytes) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, bytes);
  }

  private static void check(boolean ok, String name, Object value, String rule) {
    if (!ok) {
      throw new IllegalArgumentException(name + " must be " + rule + " (was " + value + ")");
    }
  }
}
