package dev.yaad.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.yaad.memory.AddResult;
import dev.yaad.memory.Categories;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.internal.MemoryService;
import dev.yaad.memory.internal.Vectors;
import dev.yaad.memory.internal.search.SearchIndex;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.search.SearchConfig;
import dev.yaad.memory.search.SearchRequest;
import dev.yaad.server.DatabaseOptions;
import dev.yaad.server.EmbeddingOptions;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Search performance for one user with many memories, each figure beside a baseline
 * measured in the same run:
 *
 * <ul>
 *   <li>bulk add through {@code MemoryService.addAll} (embedding, de-duplication, one
 *       transaction per batch) against embedding alone and storing alone;
 *   <li>lazy index load (first search after an invalidation) against the bare store query it
 *       is built from;
 *   <li>search excluding query embedding against a brute-force search that reads the user's
 *       memories from the store for every query (no per-user state);
 *   <li>search including query embedding against embedding the query alone.
 * </ul>
 */
@Command(
    name = "search",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Measures memory search for one user with many memories.",
        "Bulk add, lazy index load, search with and without query embedding, each beside a baseline measured in"
            + " the same run; with --json the last line is one JSON object."})
final class SearchBenchmark implements Callable<Integer> {
  private static final String[] SUBJECTS = {"I", "My sister", "My brother", "My mother", "My best friend Ayesha",
      "My colleague Omar", "My daughter", "My husband", "My neighbour", "My teacher"};
  private static final String[] VERBS = {"loves", "went", "started", "stopped", "is planning", "wants to try",
      "remembers", "talked about", "is worried about", "is excited about", "booked", "finished"};
  private static final String[] THINGS = {"hiking in the Margalla hills", "green tea with cardamom", "painting sunsets",
      "a pottery class", "learning the guitar", "a trip to Skardu", "running a half marathon", "reading Urdu poetry",
      "baking bread", "a new job in Lahore", "adopting a cat", "cricket on Sundays", "studying for the IELTS",
      "the wedding in December", "a road trip to Hunza", "volunteering at the animal shelter", "yoga in the morning",
      "fixing the old bicycle", "a podcast about history", "saving money for a car", "چائے اور کتابیں",
      "لاہور میں نئی نوکری", "بارش میں چہل قدمی", "دادی کی کہانیاں"};
  private static final String[] WHEN = {"last weekend", "yesterday", "every morning", "since last year", "next month",
      "after Eid", "during the holidays", "on her birthday", "before the exams", "in the summer"};
  private static final String[] QUESTIONS = {"What does my sister love?", "When is the trip to Skardu?",
      "Who is worried about the exams?", "what hobbies do I have", "tell me about the new job in Lahore",
      "did anyone start running?", "چائے", "What happened during the holidays?", "plans for the wedding",
      "Which pets were adopted?", "What music instrument am I learning?", "morning routine yoga",
      "what did we do on 3 March 2025?", "پچھلے ہفتے کیا ہوا؟"};

  @Spec CommandSpec spec;

  @Option(names = "--memories", defaultValue = "5000", description = "memories of the measured user (default: ${DEFAULT-VALUE})")
  int memories;

  @Option(names = "--batch", defaultValue = "100", description = "memories per addAll call (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--backend", defaultValue = "h2", description = "h2 (a fresh temporary file database) or postgres (a fresh schema, dropped after)")
  Backend backend;

  @Mixin DatabaseOptions database;

  @Mixin EmbeddingOptions embedding;

  @Option(names = "--queries", defaultValue = "2000", description = "measured searches per variant (default: ${DEFAULT-VALUE})")
  int queries;

  @Option(names = "--loads", defaultValue = "30", description = "measured index loads (default: ${DEFAULT-VALUE})")
  int loads;

  @Option(names = "--k", defaultValue = "10", description = "hits per search (default: ${DEFAULT-VALUE})")
  int k;

  @Option(names = "--model", description = "an in-process embedding model instead of the embedding options': "
      + OnnxEmbedder.MODEL_IDS)
  String modelName;

  @Option(names = "--json", description = "end the output with one line of JSON holding every figure")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (memories < 1 || batch < 1 || batch > 1000 || queries < 10 || loads < 1 || k < 1 || k > SearchRequest.MAX_K) {
      throw new ParameterException(spec.commandLine(), "need --memories >= 1, --batch 1-1000, --queries >= 10, --loads >= 1, --k 1-100");
    }
    PrintWriter out = spec.commandLine().getOut();
    Embedder embedder;
    try {
      embedder = modelName == null ? embedding.embedder() : OnnxEmbedder.named(modelName);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--model: " + e.getMessage());
    }
    embedder.warmUp();
    SplittableRandom random = new SplittableRandom(42);
    List<NewMemory> data = new ArrayList<>(memories);
    List<String> categories = Categories.DEFAULT.names();
    Instant base = Instant.parse("2024-01-01T00:00:00Z");
    for (int i = 0; i < memories; i++) {
      String text = pick(random, SUBJECTS) + " " + pick(random, VERBS) + " " + pick(random, THINGS) + " " + pick(random, WHEN)
          + (random.nextInt(3) == 0 ? " with " + pick(random, SUBJECTS).toLowerCase(Locale.ROOT) : "") + " (note " + i + ")";
      data.add(new NewMemory(categories.get(random.nextInt(categories.size())), text, "{\"n\":" + i + "}",
          base.plusSeconds(random.nextInt(3 * 365 * 86_400))));
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("benchmark", "search");
    figures.put("backend", backend.toString());
    figures.put("model", embedder.modelId());
    figures.put("memories", memories);
    figures.put("cores", Runtime.getRuntime().availableProcessors());

    try (SearchBenchStores.Opened opened = SearchBenchStores.open(backend, database.url())) {
      MemoryService service = MemoryService.builder(opened.cached(), embedder).build();
      String user = "bench-search-user";

      // --- bulk add, and its two halves alone, interleaved batch by batch -----------------
      // (so that all three see the same machine: the cores are shared and the load swings)
      int[] outcomes = new int[3];
      long addNanos = 0;
      long embedNanos = 0;
      long storeNanos = 0;
      for (int from = 0; from < memories; from += batch) {
        List<NewMemory> slice = data.subList(from, Math.min(memories, from + batch));
        long t0 = System.nanoTime();
        for (AddResult r : service.addAll(user, slice)) {
          outcomes[r.outcome().ordinal()]++;
        }
        long t1 = System.nanoTime();
        embedder.embed(slice.stream().map(NewMemory::content).toList());
        long t2 = System.nanoTime();
        opened.store().write("bench-search-plain", slice.stream().<MemoryWrite>map(m -> new MemoryWrite.Insert(m, null)).toList());
        long t3 = System.nanoTime();
        addNanos += t1 - t0;
        embedNanos += t2 - t1;
        storeNanos += t3 - t2;
      }
      double addSeconds = addNanos / 1e9;
      double embedSeconds = embedNanos / 1e9;
      double storeSeconds = storeNanos / 1e9;
      int sample = memories;
      figures.put("bulkAdd", Map.of(
          "memoriesPerSecond", round(memories / addSeconds), "batch", batch,
          "added", outcomes[0], "updated", outcomes[1], "unchanged", outcomes[2],
          "baselineEmbedOnlyPerSecond", round(sample / embedSeconds),
          "baselineStoreOnlyPerSecond", round(sample / storeSeconds)));
      out.printf("bulk add: %.0f memories/s with embedding and de-duplication (batches of %d; %d added, %d updated, %d unchanged);"
              + " embedding alone %.0f/s, storing alone %.0f/s%n",
          memories / addSeconds, batch, outcomes[0], outcomes[1], outcomes[2], sample / embedSeconds, sample / storeSeconds);

      // --- queries ------------------------------------------------------------------------
      List<SearchRequest> requests = new ArrayList<>();
      for (String q : QUESTIONS) {
        requests.add(SearchRequest.of(q, k));
      }
      List<float[]> vectors = embedder.embedQueries(Arrays.asList(QUESTIONS));
      SearchIndex index = service.searchIndex();

      // --- lazy index load against the store query alone ----------------------------------
      long[] loadTimes = new long[loads];
      long[] readTimes = new long[loads];
      for (int i = -3; i < loads; i++) { // 3 discarded rounds warm the JIT
        index.invalidate(user);
        long t0 = System.nanoTime();
        index.search(user, requests.getFirst(), vectors.getFirst());
        long t1 = System.nanoTime();
        List<EmbeddedMemory> rows = opened.store().embeddedMemories(user);
        long t2 = System.nanoTime();
        if (i >= 0) {
          loadTimes[i] = t1 - t0;
          readTimes[i] = t2 - t1;
        }
        if (rows.size() < outcomes[0]) {
          throw new IllegalStateException("store returned " + rows.size() + " memories");
        }
      }
      Arrays.sort(loadTimes);
      Arrays.sort(readTimes);
      figures.put("indexLoad", Map.of("p50Ms", ms(p(loadTimes, 0.5)), "p99Ms", ms(p(loadTimes, 0.99)),
          "baselineStoreReadP50Ms", ms(p(readTimes, 0.5))));
      out.printf("lazy index load (%d memories): p50 %.2f ms, p99 %.2f ms; the store query alone: p50 %.2f ms%n",
          outcomes[0], ms(p(loadTimes, 0.5)), ms(p(loadTimes, 0.99)), ms(p(readTimes, 0.5)));

      // --- search without query embedding, against brute force over the store -------------
      long[][] paired = interleaved(queries, i -> index.search(user, requests.get(i % requests.size()), vectors.get(i % vectors.size())),
          Math.max(1, queries / 100), i -> bruteForce(opened, user, vectors.get(i % vectors.size()), k));
      long[] searchTimes = paired[0];
      long[] bruteTimes = paired[1];
      figures.put("searchExcludingEmbedding", Map.of("p50Ms", ms(p(searchTimes, 0.5)), "p99Ms", ms(p(searchTimes, 0.99)),
          "baselineBruteForceP50Ms", ms(p(bruteTimes, 0.5)), "baselineBruteForceP99Ms", ms(p(bruteTimes, 0.99))));
      out.printf("search, query vector given: p50 %.3f ms, p99 %.3f ms; brute force over the store (dense only): p50 %.2f ms, p99 %.2f ms%n",
          ms(p(searchTimes, 0.5)), ms(p(searchTimes, 0.99)), ms(p(bruteTimes, 0.5)), ms(p(bruteTimes, 0.99)));

      // --- the same, against the previous default ranking (one neighbour, no named times,
      //     following or diversity, question words counted), interleaved query by query -----
      SearchIndex previous = new SearchIndex(opened.store(), embedder,
          SearchConfig.previousDefaults());
      previous.preload(user);
      paired = interleaved(queries, i -> index.search(user, requests.get(i % requests.size()), vectors.get(i % vectors.size())),
          1, i -> previous.search(user, requests.get(i % requests.size()), vectors.get(i % vectors.size())));
      figures.put("searchAgainstPreviousRanking", Map.of("p50Ms", ms(p(paired[0], 0.5)), "p99Ms", ms(p(paired[0], 0.99)),
          "baselinePreviousP50Ms", ms(p(paired[1], 0.5)), "baselinePreviousP99Ms", ms(p(paired[1], 0.99))));
      out.printf("search, query vector given: p50 %.3f ms, p99 %.3f ms; the previous default ranking: p50 %.3f ms, p99 %.3f ms%n",
          ms(p(paired[0], 0.5)), ms(p(paired[0], 0.99)), ms(p(paired[1], 0.5)), ms(p(paired[1], 0.99)));

      // --- search with query embedding, against embedding alone ---------------------------
      paired = interleaved(Math.max(10, queries / 4), i -> service.search(user, requests.get(i % requests.size())),
          1, i -> embedder.embedQueries(List.of(QUESTIONS[i % QUESTIONS.length])));
      long[] fullTimes = paired[0];
      long[] embedTimes = paired[1];
      figures.put("searchIncludingEmbedding", Map.of("p50Ms", ms(p(fullTimes, 0.5)), "p99Ms", ms(p(fullTimes, 0.99)),
          "baselineEmbedQueryP50Ms", ms(p(embedTimes, 0.5)), "baselineEmbedQueryP99Ms", ms(p(embedTimes, 0.99))));
      out.printf("search, query embedded too: p50 %.2f ms, p99 %.2f ms; embedding the query alone: p50 %.2f ms, p99 %.2f ms%n",
          ms(p(fullTimes, 0.5)), ms(p(fullTimes, 0.99)), ms(p(embedTimes, 0.5)), ms(p(embedTimes, 0.99)));
      figures.put("search", Map.of("k", k, "config", SearchConfig.defaults().toString()));
    }
    if (json) {
      out.println(new ObjectMapper().writeValueAsString(figures));
    }
    out.flush();
    return 0;
  }

  /** What search did before per-user state: read every memory of the user, then rank by cosine. */
  private static int bruteForce(SearchBenchStores.Opened opened, String user, float[] query, int k) {
    List<EmbeddedMemory> rows = opened.store().embeddedMemories(user);
    float[] scores = new float[rows.size()];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = rows.get(i).embedding() == null ? -2 : Vectors.dot(query, rows.get(i).embedding().vector());
    }
    Integer[] order = new Integer[scores.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
    return Math.min(k, order.length);
  }

  @FunctionalInterface
  private interface Work {
    Object run(int i) throws Exception;
  }

  /**
   * Times {@code n} runs of {@code work} and, after every {@code every}-th of them, one run of
   * {@code baseline}, so both see the same moments of a shared machine; warms up both first.
   * Returns both sets of times, sorted.
   */
  private static long[][] interleaved(int n, Work work, int every, Work baseline) throws Exception {
    for (int i = 0; i < Math.max(5, n / 10); i++) {
      work.run(i);
      if (i % every == 0) {
        baseline.run(i);
      }
    }
    long[] times = new long[n];
    long[] baselineTimes = new long[(n + every - 1) / every];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      work.run(i);
      times[i] = System.nanoTime() - t0;
      if (i % every == 0) {
        long t1 = System.nanoTime();
        baseline.run(i);
        baselineTimes[i / every] = System.nanoTime() - t1;
      }
    }
    Arrays.sort(times);
    Arrays.sort(baselineTimes);
    return new long[][] {times, baselineTimes};
  }

  private static String pick(SplittableRandom random, String[] options) {
    return options[random.nextInt(options.length)];
  }

  private static long p(long[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1e3) / 1e3;
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
