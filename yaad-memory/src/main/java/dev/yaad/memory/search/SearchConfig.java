package dev.yaad.memory.search;

/**
 * How search ranks and how much per-user state it keeps. Start from {@link #defaults()} and
 * change what you need with the {@code with...} methods; every value is checked when set.
 *
 * <p>Ranking is reciprocal-rank fusion of ranked lists over the user's memories: dense (cosine
 * of the query's vector with each memory's stored vector) and lexical (BM25 over the terms
 * of {@link TextAnalysis}), each over all of the user's memories, so the first hits never
 * depend on how many are asked for. A memory's fused score is
 * {@code denseWeight / (rrfK + denseRank) + lexicalWeight / (rrfK + lexicalRank)}, plus the
 * terms of the optional lists below (times the query names, memories the first hits lead to).
 *
 * <p>The defaults and how they were chosen are in {@code docs/search.md}: words count double
 * because the default dense model is small and English-only, a memory's neighbours carry its
 * context, and each other component is measured on and off there.
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
 *                         call carry each other's context. The next neighbours out add
 *                         {@code neighbourWeight} times less again, up to {@code neighbours}
 *                         on each side. 0 turns it off
 * @param timeBoost        0 or more: the earlier form of time hints, kept for configurations
 *                         that set it: memories that happened at a time the query names have
 *                         their fused score multiplied by {@code 1 + timeBoost}. 0 (the
 *                         default) turns it off; {@code timeWeight} is its successor
 * @param maxIndexBytes    the bound on all users' in-memory search state together; the least
 *                         recently used users' state is dropped first and reloaded on demand
 * @param neighbours       1 to {@link #MAX_NEIGHBOURS}: how many memories on each side count
 *                         as neighbours (see {@code neighbourWeight})
 * @param timeWeight       0 or more: when the query names a time ("on 3 October", "in June",
 *                         "last Friday", "two weeks ago", "پچھلے جمعہ"; see {@code TimeHints}),
 *                         the memories that happened then form one more ranked list (ordered
 *                         by the fused score) with this weight, scaled down by the share of
 *                         the user's memories it holds: naming the one year everything
 *                         happened in changes nothing. 0 turns it off
 * @param followWeight     0 or more: words that are rare in the user's memories (names,
 *                         places, things: in at most {@link #FOLLOW_MAX_MEMORIES} memories,
 *                         and in at most one in twenty, so a user needs 40 memories for any)
 *                         found in the first {@link #FOLLOW_HITS} hits but not in the query
 *                         rank the memories that share them, as one more list with this
 *                         weight: "my sister" finds "Ayesha", then what else Ayesha did.
 *                         0 turns it off
 * @param diversity        0 to 1: how much a hit's similarity to hits ranked above it lowers
 *                         its place (maximal marginal relevance over the first
 *                         {@link #DIVERSITY_POOL} candidates), so near repeats do not fill
 *                         the first places. 0 turns it off
 * @param questionWords    whether the words that only make the query a question ("what",
 *                         "did", "how", "کیا", "کب") count in the lexical ranking; false (the
 *                         default) drops them, since they match every memory that asks
 *                         something rather than the one that answers
 * @param questionPenalty  0 to 1: a memory that asks something (its text ends in a question
 *                         mark, {@code ?} or {@code ؟}) has its fused score multiplied by
 *                         {@code 1 - questionPenalty}: a question seldom holds what a search
 *                         looks for, the statement near it does ("What did you paint?" /
 *                         "A horse."). 0.1 (the default) lifts multi-hop recall with the
 *                         default model, bge-small-en-v1.5-q; 0 turns it off (with
 *                         all-MiniLM-L6-v2 it gains nothing: {@code docs/search.md})
 */
public record SearchConfig(
    double denseWeight, double lexicalWeight, int rrfK, double bm25K1, double bm25B,
    double neighbourWeight, double timeBoost, long maxIndexBytes,
    int neighbours, double timeWeight, double followWeight, double diversity, boolean questionWords,
    double questionPenalty) {

  public static final double DEFAULT_DENSE_WEIGHT = 0.5;
  public static final double DEFAULT_LEXICAL_WEIGHT = 1.0;
  public static final int DEFAULT_RRF_K = 60;
  public static final double DEFAULT_BM25_K1 = 1.2;
  public static final double DEFAULT_BM25_B = 0.75;
  public static final double DEFAULT_NEIGHBOUR_WEIGHT = 0.5;
  public static final double DEFAULT_TIME_BOOST = 0;
  public static final long DEFAULT_MAX_INDEX_BYTES = 256L * 1024 * 1024;
  public static final int DEFAULT_NEIGHBOURS = 2;
  public static final int MAX_NEIGHBOURS = 5;
  public static final double DEFAULT_TIME_WEIGHT = 0.5;
  public static final double DEFAULT_FOLLOW_WEIGHT = 0.3;
  public static final double DEFAULT_DIVERSITY = 0.3;
  /** For the default model, bge-small-en-v1.5-q (docs/search.md); with all-MiniLM-L6-v2 it gains nothing. */
  public static final double DEFAULT_QUESTION_PENALTY = 0.1;
  /** How many first hits {@code followWeight} follows. */
  public static final int FOLLOW_HITS = 5;
  /** A word in at most this many of the user's memories is rare enough to follow. */
  public static final int FOLLOW_MAX_MEMORIES = 3;
  /** How many of the best candidates {@code diversity} reorders; the rest keep their order. */
  public static final int DIVERSITY_POOL = 50;

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
    check(neighbours >= 1 && neighbours <= MAX_NEIGHBOURS, "neighbours", neighbours, "between 1 and " + MAX_NEIGHBOURS);
    check(timeWeight >= 0 && Double.isFinite(timeWeight), "timeWeight", timeWeight, "0 or more");
    check(followWeight >= 0 && Double.isFinite(followWeight), "followWeight", followWeight, "0 or more");
    check(diversity >= 0 && diversity <= 1, "diversity", diversity, "between 0 and 1");
    check(questionPenalty >= 0 && questionPenalty <= 1, "questionPenalty", questionPenalty, "between 0 and 1");
  }

  /**
   * The ranking before {@code neighbours}, {@code timeWeight}, {@code followWeight},
   * {@code diversity} and {@code questionWords} existed (one neighbour on each side, time hints
   * only as a boost of 0.5, no following, no diversity, question words counted, no question
   * penalty): the baseline the benchmarks compare the defaults with.
   */
  public static SearchConfig previousDefaults() {
    return new SearchConfig(DEFAULT_DENSE_WEIGHT, DEFAULT_LEXICAL_WEIGHT, DEFAULT_RRF_K, DEFAULT_BM25_K1, DEFAULT_BM25_B,
        DEFAULT_NEIGHBOUR_WEIGHT, 0.5, DEFAULT_MAX_INDEX_BYTES, 1, 0, 0, 0, true, 0);
  }

  public static SearchConfig defaults() {
    return new SearchConfig(DEFAULT_DENSE_WEIGHT, DEFAULT_LEXICAL_WEIGHT, DEFAULT_RRF_K, DEFAULT_BM25_K1,
        DEFAULT_BM25_B, DEFAULT_NEIGHBOUR_WEIGHT, DEFAULT_TIME_BOOST, DEFAULT_MAX_INDEX_BYTES, DEFAULT_NEIGHBOURS,
        DEFAULT_TIME_WEIGHT, DEFAULT_FOLLOW_WEIGHT, DEFAULT_DIVERSITY, false, DEFAULT_QUESTION_PENALTY);
  }

  public SearchConfig withWeights(double dense, double lexical) {
    return new SearchConfig(dense, lexical, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes,
        neighbours, timeWeight, followWeight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withRrfK(int k) {
    return new SearchConfig(denseWeight, lexicalWeight, k, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes,
        neighbours, timeWeight, followWeight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withBm25(double k1, double b) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, k1, b, neighbourWeight, timeBoost, maxIndexBytes,
        neighbours, timeWeight, followWeight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withNeighbourWeight(double weight) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, weight, timeBoost, maxIndexBytes,
        neighbours, timeWeight, followWeight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withTimeBoost(double boost) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, boost, maxIndexBytes,
        neighbours, timeWeight, followWeight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withMaxIndexBytes(long bytes) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, bytes,
        neighbours, timeWeight, followWeight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withNeighbours(int count) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes,
        count, timeWeight, followWeight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withTimeWeight(double weight) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes,
        neighbours, weight, followWeight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withFollowWeight(double weight) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes,
        neighbours, timeWeight, weight, diversity, questionWords, questionPenalty);
  }

  public SearchConfig withDiversity(double lambda) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes,
        neighbours, timeWeight, followWeight, lambda, questionWords, questionPenalty);
  }

  public SearchConfig withQuestionWords(boolean counted) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes,
        neighbours, timeWeight, followWeight, diversity, counted, questionPenalty);
  }

  public SearchConfig withQuestionPenalty(double penalty) {
    return new SearchConfig(denseWeight, lexicalWeight, rrfK, bm25K1, bm25B, neighbourWeight, timeBoost, maxIndexBytes,
        neighbours, timeWeight, followWeight, diversity, questionWords, penalty);
  }

  private static void check(boolean ok, String name, Object value, String rule) {
    if (!ok) {
      throw new IllegalArgumentException(name + " must be " + rule + " (was " + value + ")");
    }
  }
}
