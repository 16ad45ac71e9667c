package dev.yaad.memory.internal.search;

import dev.yaad.memory.Memory;
import dev.yaad.memory.internal.Vectors;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.Embedding;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.internal.store.UserState;
import dev.yaad.memory.search.SearchConfig;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiPredicate;
import java.util.stream.IntStream;

/**
 * One user's search state, immutable once built: the memories in the order they were
 * written, their vectors as one row-major matrix, and an inverted index of their terms.
 * Built from one store query; replaced (never changed) when the user's memories change.
 */
final class UserIndex {
  private static final int PARALLEL_ANALYSIS_THRESHOLD = 1000;
  static final long NEIGHBOUR_WINDOW_MILLIS = 60 * 60 * 1000L;
  final String userId;
  final String modelId;
  final int dimension;
  final Memory[] memories;
  /** Row i is memory i's unit vector; zero where {@link #hasVector} is false. */
  final float[] matrix;
  final boolean[] hasVector;
  /** Whether memory i asks something (ends in a question mark): see {@link SearchConfig#questionPenalty}. */
  private final boolean[] asks;
  final int withoutVector;
  private final long[] occurredMillis; // occurredAt, or createdAt when unknown
  private final long[] createdMillis;
  /** term → [doc, termFrequency, doc, termFrequency, ...], docs ascending. */
  private final Map<String, int[]> postings;
  private final int[] docLength;
  private final float avgDocLength;
  /** category + '\n' + same-text key → doc, for exact de-duplication; built on first use (searches never need it). */
  private volatile Map<String, Integer> sameText;
  final long weightBytes;
  /** The user's memories as this index saw them, for a conditional write decided from it. */
  final UserState state;
  final long builtNanos = System.nanoTime();

  private UserIndex(String userId, String modelId, int dimension, Memory[] memories, float[] matrix,
      boolean[] hasVector, boolean[] asks, int withoutVector, long[] occurredMillis, long[] createdMillis,
      Map<String, int[]> postings, int[] docLength, float avgDocLength, long weightBytes, UserState state) {
    this.userId = userId;
    this.modelId = modelId;
    this.dimension = dimension;
    this.memories = memories;
    this.matrix = matrix;
    this.hasVector = hasVector;
    this.asks = asks;
    this.withoutVector = withoutVector;
    this.occurredMillis = occurredMillis;
    this.createdMillis = createdMillis;
    this.postings = postings;
    this.docLength = docLength;
    this.avgDocLength = avgDocLength;
    this.weightBytes = weightBytes;
    this.state = state;
  }

  /**
   * @param modelId   only vectors of this model are used; others count as missing
   * @param dimension the model's dimension, or 0 to take it from the first matching vector
   */
  static UserIndex build(String userId, List<EmbeddedMemory> rows, String modelId, int dimension, TextAnalysis analysis) {
    int n = rows.size();
    int dim = dimension;
    if (dim == 0) {
      for (EmbeddedMemory row : rows) {
        if (row.embedding() != null && row.embedding().model().equals(modelId)) {
          dim = row.embedding().dimension();
          break;
        }
      }
    }
    Memory[] memories = new Memory[n];
    float[] matrix = new float[n * dim];
    boolean[] hasVector = new boolean[n];
    boolean[] asks = new boolean[n];
    long[] occurred = new long[n];
    long[] created = new long[n];
    int[] docLength = new int[n];
    Map<String, IntList> building = new HashMap<>();
    // Analysis is most of the cost of a load: spread it over the cores for big users.
    @SuppressWarnings("unchecked")
    List<String>[] termsOf = new List[n];
    IntStream range = IntStream.range(0, n);
    (n >= PARALLEL_ANALYSIS_THRESHOLD ? range.parallel() : range)
        .forEach(i -> termsOf[i] = analysis.terms(rows.get(i).memory().content()));
    int without = 0;
    long totalLength = 0;
    Instant lastUpdated = null;
    long weight = 256L + (long) n * (dim * 4L + 64);
    for (int i = 0; i < n; i++) {
      Memory m = rows.get(i).memory();
      memories[i] = m;
      asks[i] = asks(m.content());
      lastUpdated = lastUpdated == null || m.updatedAt().isAfter(lastUpdated) ? m.updatedAt() : lastUpdated;
      created[i] = m.createdAt().toEpochMilli();
      occurred[i] = m.occurredAt() != null ? m.occurredAt().toEpochMilli() : created[i];
      Embedding e = rows.get(i).embedding();
      if (e != null && e.model().equals(modelId) && e.dimension() == dim) {
        System.arraycopy(e.vector(), 0, matrix, i * dim, dim);
        hasVector[i] = true;
      } else {
        without++;
      }
      List<String> terms = termsOf[i];
      docLength[i] = terms.size();
      totalLength += terms.size();
      for (String term : terms) {
        building.computeIfAbsent(term, t -> new IntList()).count(i);
      }
      weight += 2L * (m.content().length() + m.metadata().length()) + 160 + terms.size() * 8L;
      termsOf[i] = null;
    }
    Map<String, int[]> postings = new HashMap<>(building.size() * 2);
    building.forEach((term, list) -> postings.put(term, list.toArray()));
    weight += postings.size() * 64L;
    float avg = n == 0 ? 0 : (float) totalLength / n;
    return new UserIndex(userId, modelId, dim, memories, matrix, hasVector, asks, without, occurred, created,
        postings, docLength, avg, weight, new UserState(n, lastUpdated));
  }

  /**
   * The rows a load would read once {@code writes} (whose results are {@code written}) were
   * applied to the memories of this index: each with this model's vector, or none; null if an
   * update names a memory this index does not hold.
   */
  List<EmbeddedMemory> with(List<MemoryWrite> writes, List<Memory> written) {
    List<EmbeddedMemory> rows = new ArrayList<>(memories.length + writes.size());
    Map<UUID, Integer> at = new HashMap<>();
    for (int i = 0; i < memories.length; i++) {
      rows.add(new EmbeddedMemory(memories[i], hasVector[i]
          ? new Embedding(modelId, Arrays.copyOfRange(matrix, i * dimension, (i + 1) * dimension)) : null));
      at.put(memories[i].id(), i);
    }
    for (int w = 0; w < writes.size(); w++) {
      Memory result = written.get(w);
      switch (writes.get(w)) {
        case MemoryWrite.Insert insert -> rows.add(new EmbeddedMemory(result, insert.embedding()));
        case MemoryWrite.Update update -> {
          Integer i = at.get(update.id());
          if (i == null) {
            return null; // not a memory of this index: the store is read again instead
          }
          Embedding kept = result.content().equals(memories[i].content()) ? rows.get(i).embedding() : null;
          rows.set(i, new EmbeddedMemory(result, update.embedding() != null ? update.embedding() : kept));
        }
      }
    }
    return rows;
  }

  /** A text that ends in a question mark, Latin or Arabic script's, after any closing quote or bracket. */
  static boolean asks(String text) {
    for (int i = text.length() - 1; i >= 0; i--) {
      char c = text.charAt(i);
      if (c == '?' || c == '؟') {
        return true;
      }
      if (!Character.isWhitespace(c) && "\"'”’)]".indexOf(c) < 0) {
        return false;
      }
    }
    return false;
  }

  int size() {
    return memories.length;
  }

  /** The memory of this category whose text is the same after normalisation, or -1. */
  int sameTextDoc(String category, String content) {
    Map<String, Integer> map = sameText;
    if (map == null) {
      map = new HashMap<>(memories.length * 2);
      for (int i = 0; i < memories.length; i++) {
        map.putIfAbsent(memories[i].category() + '\n' + TextAnalysis.sameTextKey(memories[i].content()), i);
      }
      sameText = map; // a benign race: two threads may both build the same map
    }
    Integer doc = map.get(category + '\n' + TextAnalysis.sameTextKey(content));
    return doc == null ? -1 : doc;
  }

  /**
   * For each query vector, the memory of its category with the most similar vector at or above
   * {@code threshold} that {@code accept} takes (query, doc), or -1, in one pass over the
   * matrix: each row is read once for all queries, which matters once the matrix no longer
   * fits in the CPU caches. {@code accept} is asked only about rows that would be the best so far.
   */
  int[] nearest(String[] categories, float[][] vectors, float threshold, BiPredicate<Integer, Integer> accept) {
    int q = vectors.length;
    int[] best = new int[q];
    float[] bestScore = new float[q];
    Arrays.fill(best, -1);
    Arrays.fill(bestScore, Float.NEGATIVE_INFINITY);
    for (int i = 0; i < memories.length; i++) {
      if (!hasVector[i]) {
        continue;
      }
      String category = memories[i].category();
      for (int j = 0; j < q; j++) {
        if (vectors[j].length == dimension && category.equals(categories[j])) {
          float score = Vectors.dot(vectors[j], matrix, i);
          if (score >= threshold && score > bestScore[j] && accept.test(j, i)) {
            bestScore[j] = score;
            best[j] = i;
          }
        }
      }
    }
    return best;
  }

  /** For each memory, how many of {@code terms} (distinct, analysed) it contains. */
  int[] sharedTerms(List<String> terms) {
    int[] shared = new int[memories.length];
    for (String term : terms) {
      int[] docs = postings.get(term);
      if (docs != null) {
        for (int i = 0; i < docs.length; i += 2) {
          shared[docs[i]]++;
        }
      }
    }
    return shared;
  }

  float cosine(int doc, float[] vector) {
    return hasVector[doc] && vector.length == dimension ? Vectors.dot(vector, matrix, doc) : Float.NEGATIVE_INFINITY;
  }

  /**
   * Ranks the memories that pass the request's filters. The steps, each over all the
   * memories that pass, so the first hits do not depend on {@code k}:
   *
   * <ol>
   *   <li>dense and lexical scores, each raised by the memory's neighbours' ({@link #smooth});
   *   <li>reciprocal-rank fusion of the two rankings;
   *   <li>the times the query names ({@link TimeHints}): the memories that happened then, as
   *       one more ranking ({@link #preferNamedTimes});
   *   <li>the rare words of the first hits, as one more ranking ({@link #follow});
   *   <li>memories that ask something lowered ({@link SearchConfig#questionPenalty});
   *   <li>the top k, reordered for diversity ({@link Diversity}).
   * </ol>
   *
   * @param queryVector the query's unit vector, or {@code null} for lexical ranking only
   * @param now         when the query is asked, in the asker's zone: the anchor of "yesterday"
   */
  List<SearchHit> search(SearchRequest request, float[] queryVector, List<String> categories, SearchConfig config,
      ZonedDateTime now) {
    int n = memories.length;
    if (n == 0) {
      return List.of();
    }
    boolean[] allowed = filter(request, categories);
    List<String> queryTerms = TextAnalysis.DEFAULT.terms(request.query());
    if (!config.questionWords()) {
      queryTerms = QuestionWords.drop(queryTerms);
    }
    float[] dense = null;
    if (queryVector != null && config.denseWeight() > 0 && queryVector.length == dimension) {
      dense = new float[n];
      for (int i = 0; i < n; i++) {
        dense[i] = hasVector[i] && (allowed == null || allowed[i]) ? Vectors.dot(queryVector, matrix, i) : Float.NEGATIVE_INFINITY;
      }
    }
    float[] lexical = config.lexicalWeight() > 0 ? bm25(queryTerms, allowed, config) : null;
    if (config.neighbourWeight() > 0) {
      dense = smooth(dense, config, allowed);
      lexical = smooth(lexical, config, allowed);
    }
    float[] fused = new float[n];
    boolean any = false;
    if (dense != null) {
      any |= fuse(fused, TopK.of(dense, n, Float.NEGATIVE_INFINITY), config.denseWeight(), config.rrfK());
    }
    if (lexical != null) {
      any |= fuse(fused, TopK.of(lexical, n, 0f), config.lexicalWeight(), config.rrfK());
    }
    if (!any) {
      return List.of();
    }
    double best = (config.denseWeight() + config.lexicalWeight()) / (config.rrfK() + 1.0);
    if (config.timeWeight() > 0 || config.timeBoost() > 0) {
      TimeHints hints = TimeHints.of(request.query(), now);
      if (!hints.pendingEvents().isEmpty()) {
        hints = hints.resolveEvents(phrase -> timeOf(phrase, allowed, config));
      }
      if (!hints.isEmpty()) {
        best += preferNamedTimes(fused, hints, allowed, config);
      }
    }
    if (config.followWeight() > 0 && config.lexicalWeight() > 0) {
      best += follow(fused, queryTerms, allowed, config);
    }
    if (config.questionPenalty() > 0) {
      for (int i = 0; i < n; i++) {
        if (asks[i]) {
          fused[i] *= (float) (1 - config.questionPenalty());
        }
      }
    }
    int[] top = config.diversity() > 0
        ? Diversity.select(fused, request.k(), config.diversity(), matrix, hasVector, dimension)
        : TopK.of(fused, request.k(), 0f);
    best *= 1 + config.timeBoost();
    List<SearchHit> hits = new ArrayList<>(top.length);
    for (int doc : top) {
      hits.add(new SearchHit(memories[doc], Math.min(1.0, fused[doc] / best)));
    }
    return hits;
  }

  /**
   * Prefers the memories that happened at a time the query names: they form one more ranked
   * list, in fused order, weighted by {@code timeWeight} times the share of the candidates
   * they leave out (a time that covers everything says nothing); or, with the earlier
   * {@code timeBoost}, their scores are multiplied. Returns the most a score can gain.
   */
  private double preferNamedTimes(float[] fused, TimeHints hints, boolean[] allowed, SearchConfig config) {
    int n = fused.length;
    float[] matching = new float[n];
    int matched = 0;
    int candidates = 0;
    for (int i = 0; i < n; i++) {
      matching[i] = -1f;
      if (allowed == null || allowed[i]) {
        candidates++;
        if (hints.matches(occurredMillis[i])) {
          matching[i] = fused[i];
          matched++;
        }
      }
    }
    if (matched == 0) {
      return 0;
    }
    double gain = 0;
    if (config.timeWeight() > 0) {
      double weight = config.timeWeight() * (1 - (double) matched / candidates);
      fuse(fused, TopK.of(matching, matched, -1f), weight, config.rrfK());
      gain += weight / (config.rrfK() + 1.0);
    }
    if (config.timeBoost() > 0) {
      for (int i = 0; i < n; i++) {
        if (matching[i] >= 0) {
          fused[i] *= (float) (1 + config.timeBoost());
        }
      }
    }
    return gain;
  }

  /** When the event a query names relative to ("her birthday") happened: the time of the memory its words match best. */
  private Instant timeOf(String phrase, boolean[] allowed, SearchConfig config) {
    int[] best = TopK.of(bm25(QuestionWords.drop(TextAnalysis.DEFAULT.terms(phrase)), allowed, config), 1, 0f);
    return best.length == 0 ? null : Instant.ofEpochMilli(occurredMillis[best[0]]);
  }

  /**
   * Follows the first hits: the words of the first {@link SearchConfig#FOLLOW_HITS} that are
   * rare among the user's memories and not in the query (names, places, things) rank the
   * memories that share them, as one more list. Returns the most a score can gain.
   */
  private double follow(float[] fused, List<String> queryTerms, boolean[] allowed, SearchConfig config) {
    Set<String> rare = new LinkedHashSet<>();
    // Rare: in at most FOLLOW_MAX_MEMORIES memories and in at most one in twenty (among three
    // memories nothing is rare); in at least two, since one is the hit itself.
    int maxDf = Math.min(SearchConfig.FOLLOW_MAX_MEMORIES, memories.length / 20);
    for (int doc : TopK.of(fused, SearchConfig.FOLLOW_HITS, 0f)) {
      for (String term : TextAnalysis.DEFAULT.terms(memories[doc].content())) {
        int[] list = postings.get(term);
        if (list != null && list.length / 2 >= 2 && list.length / 2 <= maxDf && !queryTerms.contains(term)) {
          rare.add(term);
        }
      }
    }
    if (rare.isEmpty()) {
      return 0;
    }
    fuse(fused, TopK.of(bm25(new ArrayList<>(rare), allowed, config), fused.length, 0f), config.followWeight(), config.rrfK());
    return config.followWeight() / (config.rrfK() + 1.0);
  }

  private static boolean fuse(float[] fused, int[] ranked, double weight, int rrfK) {
    for (int rank = 0; rank < ranked.length; rank++) {
      fused[ranked[rank]] += (float) (weight / (rrfK + rank + 1));
    }
    return ranked.length > 0;
  }

  private float[] bm25(List<String> queryTerms, boolean[] allowed, SearchConfig config) {
    int n = memories.length;
    float[] scores = new float[n];
    float k1 = (float) config.bm25K1();
    float b = (float) config.bm25B();
    Set<String> seen = new HashSet<>();
    for (String term : queryTerms) {
      int[] list = postings.get(term);
      if (list == null || !seen.add(term)) {
        continue;
      }
      int df = list.length / 2;
      float idf = (float) Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (int p = 0; p < list.length; p += 2) {
        int doc = list[p];
        if (allowed != null && !allowed[doc]) {
          continue;
        }
        int tf = list[p + 1];
        float norm = k1 * (1 - b + b * docLength[doc] / avgDocLength);
        scores[doc] += idf * tf * (k1 + 1) / (tf + norm);
      }
    }
    return scores;
  }

  /**
   * Adds to each score the better of its two neighbours' scores times {@code neighbourWeight},
   * the better of the next two out times its square, and so on for {@code neighbours} on each
   * side. Neighbours are the memories written just before and after, if they happened within
   * {@link #NEIGHBOUR_WINDOW_MILLIS} of it: turns of one conversation, facts taken from one
   * call, not the last thing said a week before.
   */
  private float[] smooth(float[] scores, SearchConfig config, boolean[] allowed) {
    if (scores == null) {
      return null;
    }
    int n = scores.length;
    float[] out = scores.clone();
    for (int i = 0; i < n; i++) {
      if (scores[i] == Float.NEGATIVE_INFINITY || (allowed != null && !allowed[i])) {
        continue; // filtered out: stays out, whatever its neighbours score
      }
      double weight = 1;
      for (int d = 1; d <= config.neighbours(); d++) {
        weight *= config.neighbourWeight();
        float left = i - d >= 0 && near(i, i - d) ? scores[i - d] : 0;
        float right = i + d < n && near(i, i + d) ? scores[i + d] : 0;
        out[i] += (float) (weight * Math.max(0, Math.max(left, right)));
      }
    }
    return out;
  }

  private boolean near(int a, int b) {
    return Math.abs(occurredMillis[a] - occurredMillis[b]) <= NEIGHBOUR_WINDOW_MILLIS;
  }

  private boolean[] filter(SearchRequest request, List<String> categories) {
    boolean byCategory = !categories.isEmpty();
    boolean byTime = request.from() != null || request.to() != null;
    if (!byCategory && !byTime) {
      return null;
    }
    long from = request.from() == null ? Long.MIN_VALUE : request.from().toEpochMilli();
    long to = request.to() == null ? Long.MAX_VALUE : request.to().toEpochMilli();
    long[] times = request.timeField() == SearchRequest.TimeField.CREATED ? createdMillis : occurredMillis;
    boolean[] allowed = new boolean[memories.length];
    for (int i = 0; i < allowed.length; i++) {
      allowed[i] = (!byCategory || categories.contains(memories[i].category()))
          && times[i] >= from && times[i] < to;
    }
    return allowed;
  }

  /** A growable list of (doc, tf) pairs. */
  private static final class IntList {
    private int[] values = new int[4];
    private int size;

    /** Counts one occurrence in {@code doc}; docs arrive in ascending order. */
    void count(int doc) {
      if (size > 0 && values[size - 2] == doc) {
        values[size - 1]++;
        return;
      }
      if (size + 2 > values.length) {
        values = Arrays.copyOf(values, values.length * 2);
      }
      values[size++] = doc;
      values[size++] = 1;
    }

    int[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }
}
