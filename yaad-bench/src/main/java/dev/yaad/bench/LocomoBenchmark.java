package dev.yaad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.yaad.memory.AddResult;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.internal.MemoryService;
import dev.yaad.memory.internal.search.SearchIndex;
import dev.yaad.memory.search.SearchConfig;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Evidence recall@k on LoCoMo-format conversations, through the real memory service, store
 * and search (the measure of {@code shared/eval/README.md}, the paper's Table 3 "Dialog" rows).
 *
 * <p>Each conversation becomes one user; each turn one memory ({@code "<speaker>: <text>"},
 * plus {@code " [shares a photo: <caption>]"}), with the session's date as its time and the
 * turn's {@code dia_id} in its metadata. Turns are stored as they are: a transcript is a
 * record, not a set of facts, so de-duplication is off (two "Thanks!" turns stay two).
 * Each question is searched with its own text, asked at the time of the conversation's last
 * session (the data gives no time per question; relative times like "last week" count back
 * from then). Two measures: LoCoMo's own (the fraction of a question's evidence turns among
 * the top k) and the strict one (1 only when all of them are). Malformed evidence ids are split
 * on ';', ',' and whitespace and kept only when they name a turn; a question left without
 * evidence scores 1 on both (the paper's rule). Temporal questions are also reported in two
 * groups: those that name a date or a time ({@link #NAMES_A_TIME}) and the others.
 */
@Command(
    name = "locomo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Evidence recall@k of memory search on LoCoMo-format conversations.",
        "Per category, per conversation and overall, with ingest and query timings; with --json the last line"
            + " is one JSON object with every figure."})
final class LocomoBenchmark implements Callable<Integer> {
  private static final Map<Integer, String> CATEGORY_NAMES = Map.of(
      1, "multi-hop", 2, "temporal", 3, "open-domain", 4, "single-hop", 5, "adversarial");
  private static final Pattern SESSION_KEY = Pattern.compile("session_(\\d+)");
  private static final Pattern EVIDENCE_SPLIT = Pattern.compile("[;,\\s]+");
  /**
   * A question that names a date or a time: a month, a year, a weekday, a season, yesterday,
   * "last week", "two weeks ago/before". The benchmark's own rule, independent of the search's
   * parser, so that the parser cannot choose the group it is judged on.
   */
  static final Pattern NAMES_A_TIME = Pattern.compile("\\b(January|February|March|April|May|June|July|August|September"
      + "|October|November|December|(19|20)\\d\\d|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday"
      + "|last (week|weekend|month|year|summer|winter|spring|fall|autumn)|\\w+ (days?|weeks?|months?|years?) (ago|before|after)"
      + "|summer|winter|spring|autumn)\\b", Pattern.CASE_INSENSITIVE);
  static final String TEMPORAL_DATED = "temporal, names a time";
  static final String TEMPORAL_OTHER = "temporal, other";
  private static final DateTimeFormatter SESSION_TIME = new DateTimeFormatterBuilder()
      .parseCaseInsensitive().appendPattern("h:mm a 'on' d MMMM, yyyy").toFormatter(Locale.ENGLISH);

  @Spec CommandSpec spec;

  @Option(names = "--data", required = true, description = "LoCoMo-format JSON file (a list of conversations)")
  File data;

  @Option(names = "--k", split = ",", defaultValue = "5,10,25,50", description = "cut-offs, each 1-100 (default: ${DEFAULT-VALUE})")
  int[] ks;

  @Option(names = "--backend", defaultValue = "h2", description = "h2 (a fresh temporary file database) or postgres (a fresh schema, dropped after)")
  Backend backend;

  @Option(names = "--db-url", description = "JDBC URL for postgres (default: jdbc:postgresql://127.0.0.1:5432/test)")
  String dbUrl;

  @Option(names = "--dense-weight", description = "fusion weight of the dense ranking (default: the search default)")
  Double denseWeight;

  @Option(names = "--lexical-weight", description = "fusion weight of the lexical ranking (default: the search default)")
  Double lexicalWeight;

  @Option(names = "--rrf-k", description = "rank offset of the fusion (default: the search default)")
  Integer rrfK;

  @Option(names = "--neighbour-weight", description = "how much a turn's better neighbour adds to its scores, 0-1 (default: the search default)")
  Double neighbourWeight;

  @Option(names = "--question-penalty", description = "how much lower a memory that asks something ranks, 0-1 (default: the search default)")
  Double questionPenalty;

  @Option(names = "--ablation", description = "also score, on the same ingest, the default with each ranking component"
      + " turned off, every new one off, and the previous default")
  boolean ablation;

  @Option(names = "--grid", hidden = true, description = "development aid: dense,lexical,rrfK,neighbour[,timeWeight];... scored on the same ingest")
  String grid;

  @Option(names = "--explain", hidden = true, defaultValue = "0", description = "development aid: print this many questions missed at k=10")
  int explain;

  @Option(names = "--model", defaultValue = OnnxEmbedder.DEFAULT_MODEL_ID, description = "the in-process embedding model: "
      + OnnxEmbedder.MODEL_IDS + " (default: ${DEFAULT-VALUE})")
  String modelName;

  @Option(names = "--embedding-cache", hidden = true, description = "development aid: keep the model's vectors in this file between runs")
  File embeddingCache;

  @Option(names = "--dump", hidden = true, description = "development aid: write each question's ranking (dia ids) to this file, one JSON line each")
  File dump;

  @Option(names = "--json", description = "end the output with one line of JSON holding every figure")
  boolean json;

  /** One question as scored. */
  private record Question(String conversation, String text, int category, Set<String> evidence, Instant askedAt) {}

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Arrays.sort(ks);
    if (ks.length == 0 || ks[0] < 1 || ks[ks.length - 1] > SearchRequest.MAX_K) {
      throw new ParameterException(spec.commandLine(), "--k values must be 1-" + SearchRequest.MAX_K);
    }
    JsonNode root = new ObjectMapper().readTree(data);
    if (!root.isArray()) {
      throw new ParameterException(spec.commandLine(), data + " is not a JSON list of conversations");
    }
    SearchConfig config = SearchConfig.defaults();
    if (neighbourWeight != null) {
      config = config.withNeighbourWeight(neighbourWeight);
    }
    if (denseWeight != null || lexicalWeight != null) {
      config = config.withWeights(denseWeight != null ? denseWeight : config.denseWeight(),
          lexicalWeight != null ? lexicalWeight : config.lexicalWeight());
    }
    if (rrfK != null) {
      config = config.withRrfK(rrfK);
    }
    if (questionPenalty != null) {
      config = config.withQuestionPenalty(questionPenalty);
    }

    OnnxEmbedder model;
    try {
      model = OnnxEmbedder.named(modelName);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--model: " + e.getMessage());
    }
    Embedder embedder = embeddingCache == null ? model : new CachedEmbedder(model, embeddingCache.toPath());
    long loadStart = System.nanoTime();
    embedder.warmUp(); // not part of ingest time: a server loads the model once, at start-up
    double modelLoadMs = (System.nanoTime() - loadStart) / 1e6;

    try (SearchBenchStores.Opened opened = SearchBenchStores.open(backend, dbUrl)) {
      MemoryService service = MemoryService.builder(opened.cached(), embedder)
          .searchConfig(config).deduplicate(false).build();
      String run = UUID.randomUUID().toString().substring(0, 8);

      // --- ingest -----------------------------------------------------------------------
      Map<String, String> userOf = new LinkedHashMap<>();
      Map<String, Map<UUID, String>> diaIdOf = new HashMap<>();
      List<Question> questions = new ArrayList<>();
      int turns = 0;
      int malformedEvidence = 0;
      long ingestNanos = 0;
      for (JsonNode conversation : root) {
        String sample = conversation.path("sample_id").asText("conv-" + userOf.size());
        String user = "locomo-" + run + "-" + sample.replaceAll("[^A-Za-z0-9._-]", "_");
        userOf.put(sample, user);
        Map<UUID, String> ids = new HashMap<>();
        diaIdOf.put(sample, ids);
        Set<String> known = new HashSet<>();
        JsonNode conv = conversation.path("conversation");
        Instant lastSession = null;
        for (int session : sessions(conv)) {
          List<NewMemory> batch = new ArrayList<>();
          List<String> batchIds = new ArrayList<>();
          Instant when = sessionTime(conv.path("session_" + session + "_date_time").asText(null));
          if (when != null && (lastSession == null || when.isAfter(lastSession))) {
            lastSession = when;
          }
          for (JsonNode turn : conv.path("session_" + session)) {
            String diaId = turn.path("dia_id").asText("");
            String content = turn.path("speaker").asText("?") + ": " + turn.path("text").asText("");
            String caption = turn.path("blip_caption").asText("");
            if (!caption.isBlank()) {
              content += " [shares a photo: " + caption + "]";
            }
            String metadata = new ObjectMapper().createObjectNode().put("dia_id", diaId).put("conversation", sample).toString();
            batch.add(new NewMemory("EXPERIENCE", content, metadata, when));
            batchIds.add(diaId);
            if (!diaId.isEmpty()) {
              known.add(diaId);
            }
          }
          if (batch.isEmpty()) {
            continue;
          }
          long start = System.nanoTime();
          List<AddResult> results = service.addAll(user, batch);
          ingestNanos += System.nanoTime() - start;
          for (int i = 0; i < results.size(); i++) {
            ids.put(results.get(i).memory().id(), batchIds.get(i));
          }
          turns += batch.size();
        }
        for (JsonNode qa : conversation.path("qa")) {
          Set<String> evidence = new HashSet<>();
          JsonNode evidenceNode = qa.path("evidence");
          // Usually a list of ids; a single string is read as a list of one.
          for (JsonNode e : evidenceNode.isTextual() ? List.of(evidenceNode) : evidenceNode) {
            for (String id : EVIDENCE_SPLIT.split(e.asText("").strip())) {
              if (!id.isEmpty() && known.contains(id)) {
                evidence.add(id);
              } else if (!id.isEmpty()) {
                malformedEvidence++;
              }
            }
          }
          String text = qa.path("question").asText("");
          if (!text.isBlank()) {
            questions.add(new Question(sample, text, qa.path("category").asInt(0), evidence, lastSession));
          }
        }
      }

      // --- query --------------------------------------------------------------------------
      for (String user : userOf.values()) { // the index load is timed apart, as it happens once per user
        service.searchIndex().invalidate(user);
      }
      long loadNanos = 0;
      for (String user : userOf.values()) {
        long start = System.nanoTime();
        service.search(user, SearchRequest.of("warm", 1));
        loadNanos += System.nanoTime() - start;
      }
      int maxK = ks[ks.length - 1];
      long[] latencies = new long[questions.size()];
      Scores scores = score(questions, diaIdOf, (q, i) -> {
        long start = System.nanoTime();
        List<SearchHit> hits = service.search(userOf.get(q.conversation()), request(q, maxK));
        latencies[i] = System.nanoTime() - start;
        return hits;
      });
      if (dump != null) {
        writeDump(service, questions, userOf, diaIdOf, maxK);
      }
      Map<String, double[]> recallSums = scores.sums();
      Map<String, double[]> strictSums = scores.strict();
      Map<String, Integer> counts = scores.counts();
      int noEvidence = scores.noEvidence();
      if (explain > 0) {
        explain(out, service, questions, userOf, diaIdOf);
      }
      if (grid != null) {
        runGrid(out, opened, embedder, questions, userOf, diaIdOf, maxK);
      }
      Map<String, Object> ablated = ablation ? runAblation(out, opened, embedder, questions, userOf, diaIdOf, maxK, config) : null;

      // --- report -------------------------------------------------------------------------
      Arrays.sort(latencies);
      double ingestMs = ingestNanos / 1e6;
      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("benchmark", "locomo");
      figures.put("data", data.getName());
      figures.put("backend", backend.toString());
      figures.put("model", embedder.modelId());
      figures.put("conversations", userOf.size());
      figures.put("turns", turns);
      figures.put("questions", questions.size());
      figures.put("questionsWithoutEvidence", noEvidence);
      figures.put("evidenceIdsDropped", malformedEvidence);
      figures.put("recall", scores.figures(recallSums));
      figures.put("recallStrict", scores.figures(strictSums));
      Map<String, Object> perCategory = new LinkedHashMap<>(counts);
      figures.put("questionsPerCategory", perCategory);
      figures.put("ingest", Map.of("ms", round(ingestMs), "memoriesPerSecond", round(turns / (ingestMs / 1000)),
          "modelLoadMs", round(modelLoadMs)));
      figures.put("indexLoad", Map.of("users", userOf.size(), "totalMs", round(loadNanos / 1e6)));
      figures.put("query", Map.of("count", latencies.length, "p50Ms", round(percentile(latencies, 0.50) / 1e6),
          "p99Ms", round(percentile(latencies, 0.99) / 1e6), "meanMs", round(mean(latencies) / 1e6)));
      figures.put("search", searchFigures(config));
      if (ablated != null) {
        figures.put("ablation", ablated);
      }

      out.printf("LoCoMo evidence recall@k (%s: %d conversations, %d turns, %d questions, %s on %s)%n",
          data.getName(), userOf.size(), turns, questions.size(), embedder.modelId(), figures.get("backend"));
      out.println("recall@k: LoCoMo's measure (found / evidence) | strict (all evidence found)");
      printTable(out, scores);
      out.printf("ingest: %d memories in %.0f ms (%.0f/s, embedding included); index loads: %.1f ms for %d users;"
              + " query (embedding included): p50 %.2f ms, p99 %.2f ms%n",
          turns, ingestMs, turns / (ingestMs / 1000), loadNanos / 1e6, userOf.size(),
          percentile(latencies, 0.5) / 1e6, percentile(latencies, 0.99) / 1e6);
      if (embedder instanceof CachedEmbedder cached) {
        cached.save();
      }
      if (json) {
        out.println(new ObjectMapper().writeValueAsString(figures));
      }
      out.flush();
    }
    return 0;
  }

  /** Recall sums per bucket (category name, "overall", ...) and k, both measures, with the bucket sizes. */
  private record Scores(Map<String, double[]> sums, Map<String, double[]> strict, Map<String, Integer> counts, int noEvidence,
      int[] ks) {
    double overall(int j) {
      return 100 * sums.get("overall")[j] / counts.get("overall");
    }

    /** {k: {bucket: percent}}, overall first. */
    Map<String, Object> figures(Map<String, double[]> of) {
      Map<String, Object> byK = new LinkedHashMap<>();
      for (int j = 0; j < ks.length; j++) {
        Map<String, Object> atK = new LinkedHashMap<>();
        atK.put("overall", round(100 * of.get("overall")[j] / counts.get("overall")));
        for (var e : of.entrySet()) {
          if (!e.getKey().equals("overall")) {
            atK.put(e.getKey(), round(100 * e.getValue()[j] / counts.get(e.getKey())));
          }
        }
        byK.put(String.valueOf(ks[j]), atK);
      }
      return byK;
    }
  }

  @FunctionalInterface
  private interface Searcher {
    List<SearchHit> search(Question question, int index);
  }

  private static SearchRequest request(Question q, int k) {
    return SearchRequest.of(q.text(), k).askedAt(q.askedAt(), ZoneOffset.UTC);
  }

  private Scores score(List<Question> questions, Map<String, Map<UUID, String>> diaIdOf, Searcher searcher) {
    Map<String, double[]> recallSums = new TreeMap<>();
    Map<String, double[]> strictSums = new TreeMap<>();
    Map<String, Integer> counts = new TreeMap<>();
    int noEvidence = 0;
    for (int q = 0; q < questions.size(); q++) {
      Question question = questions.get(q);
      List<SearchHit> hits = searcher.search(question, q);
      Map<UUID, String> ids = diaIdOf.get(question.conversation());
      List<String> ranked = new ArrayList<>(hits.size());
      hits.forEach(h -> ranked.add(ids.get(h.memory().id())));
      if (question.evidence().isEmpty()) {
        noEvidence++;
      }
      double[] recalls = new double[ks.length];
      double[] strict = new double[ks.length];
      for (int j = 0; j < ks.length; j++) {
        if (question.evidence().isEmpty()) {
          recalls[j] = 1.0;
          strict[j] = 1.0;
        } else {
          Set<String> top = new HashSet<>(ranked.subList(0, Math.min(ks[j], ranked.size())));
          int found = 0;
          for (String e : question.evidence()) {
            found += top.contains(e) ? 1 : 0;
          }
          recalls[j] = (double) found / question.evidence().size();
          strict[j] = found == question.evidence().size() ? 1.0 : 0.0;
        }
      }
      List<String> buckets = new ArrayList<>(List.of(CATEGORY_NAMES.getOrDefault(question.category(), "category-" + question.category()),
          "overall", "conversation " + question.conversation()));
      if (grid != null && question.category() == 1) { // for held-out checks: tune on some conversations, look at the others
        buckets.add("multi-hop, " + question.conversation());
      }
      if (question.category() == 2) {
        buckets.add(NAMES_A_TIME.matcher(question.text()).find() ? TEMPORAL_DATED : TEMPORAL_OTHER);
      }
      for (String bucket : buckets) {
        double[] sums = recallSums.computeIfAbsent(bucket, b -> new double[ks.length]);
        double[] strictBucket = strictSums.computeIfAbsent(bucket, b -> new double[ks.length]);
        for (int j = 0; j < ks.length; j++) {
          sums[j] += recalls[j];
          strictBucket[j] += strict[j];
        }
        counts.merge(bucket, 1, Integer::sum);
      }
    }
    return new Scores(recallSums, strictSums, counts, noEvidence, ks);
  }

  /** One row per bucket: n, then LoCoMo's measure at each k, then the strict one. */
  private void printTable(PrintWriter out, Scores scores) {
    out.printf("%-24s %5s", "category", "n");
    for (int k : ks) {
      out.printf(" %6s", "R@" + k);
    }
    out.print(" |");
    for (int k : ks) {
      out.printf(" %6s", "S@" + k);
    }
    out.println();
    for (String bucket : scores.sums().keySet().stream()
        .sorted((a, b) -> a.equals("overall") ? 1 : b.equals("overall") ? -1 : a.compareTo(b)).toList()) {
      int n = scores.counts().get(bucket);
      out.printf("%-24s %5d", bucket, n);
      for (int j = 0; j < ks.length; j++) {
        out.printf(" %6.1f", 100 * scores.sums().get(bucket)[j] / n);
      }
      out.print(" |");
      for (int j = 0; j < ks.length; j++) {
        out.printf(" %6.1f", 100 * scores.strict().get(bucket)[j] / n);
      }
      out.println();
    }
  }

  private static Map<String, Object> searchFigures(SearchConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("denseWeight", c.denseWeight());
    m.put("lexicalWeight", c.lexicalWeight());
    m.put("rrfK", c.rrfK());
    m.put("neighbourWeight", c.neighbourWeight());
    m.put("neighbours", c.neighbours());
    m.put("timeWeight", c.timeWeight());
    m.put("timeBoost", c.timeBoost());
    m.put("followWeight", c.followWeight());
    m.put("diversity", c.diversity());
    m.put("questionWords", c.questionWords());
    m.put("questionPenalty", c.questionPenalty());
    return m;
  }

  /**
   * Scores the configuration with each ranking component turned off, all of them off, and the
   * previous default (before dates, question words, wider neighbours, following and diversity),
   * on the data ingested once, the question vectors computed once. Prints one line each at
   * k = 10 (both measures, overall and by category) and the full tables of the previous and
   * the given configuration; returns every figure.
   */
  private Map<String, Object> runAblation(PrintWriter out, SearchBenchStores.Opened opened, Embedder embedder,
      List<Question> questions, Map<String, String> userOf, Map<String, Map<UUID, String>> diaIdOf, int maxK,
      SearchConfig config) {
    List<float[]> vectors = embedder.embedQueries(questions.stream().map(Question::text).toList());
    Map<String, SearchConfig> variants = new LinkedHashMap<>();
    variants.put("default", config);
    variants.put("- question-word removal", config.withQuestionWords(true));
    variants.put("- second neighbours", config.withNeighbours(1));
    variants.put("- named times", config.withTimeWeight(0).withTimeBoost(0));
    variants.put("- following", config.withFollowWeight(0));
    variants.put("- diversity", config.withDiversity(0));
    if (config.questionPenalty() > 0) {
      variants.put("- question penalty", config.withQuestionPenalty(0));
    }
    variants.put("all new off", config.withQuestionWords(true).withNeighbours(1).withTimeWeight(0).withTimeBoost(0)
        .withFollowWeight(0).withDiversity(0).withQuestionPenalty(0));
    variants.put("previous default", SearchConfig.previousDefaults().withMaxIndexBytes(config.maxIndexBytes()));
    int at10 = Math.max(0, Arrays.binarySearch(ks, 10));
    out.printf("ablation at k=%d, LoCoMo's measure / strict:%n", ks[at10]);
    Map<String, Object> all = new LinkedHashMap<>();
    Map<String, Scores> kept = new HashMap<>();
    for (var variant : variants.entrySet()) {
      SearchIndex index = new SearchIndex(opened.store(), embedder, variant.getValue());
      Scores s = score(questions, diaIdOf, (q, i) -> index.search(userOf.get(q.conversation()), request(q, maxK), vectors.get(i)));
      kept.put(variant.getKey(), s);
      StringBuilder line = new StringBuilder(String.format("%-26s", variant.getKey()));
      for (String bucket : List.of("overall", "single-hop", "multi-hop", "temporal", "open-domain", "adversarial",
          TEMPORAL_DATED, TEMPORAL_OTHER)) {
        if (s.counts().containsKey(bucket)) {
          int n = s.counts().get(bucket);
          line.append(String.format(" %s %.1f/%.1f", bucket.equals("overall") ? "ALL" : bucket,
              100 * s.sums().get(bucket)[at10] / n, 100 * s.strict().get(bucket)[at10] / n));
        }
      }
      out.println(line);
      out.flush();
      all.put(variant.getKey(), Map.of("search", searchFigures(variant.getValue()), "recall", s.figures(s.sums()),
          "recallStrict", s.figures(s.strict())));
    }
    for (String name : List.of("previous default", "default")) {
      out.println("ablation, " + name + ":");
      printTable(out, kept.get(name));
    }
    return all;
  }

  /**
   * Development aid: scores several ranking configurations on the data ingested once, the
   * question vectors computed once. Each entry is {@code dense,lexical,rrfK,neighbour}.
   */
  private void runGrid(PrintWriter out, SearchBenchStores.Opened opened, Embedder embedder, List<Question> questions,
      Map<String, String> userOf, Map<String, Map<UUID, String>> diaIdOf, int maxK) {
    List<float[]> vectors = embedder.embedQueries(questions.stream().map(Question::text).toList());
    for (String entry : grid.split(";")) {
      String[] p = entry.split(",");
      SearchConfig c = SearchConfig.defaults().withWeights(Double.parseDouble(p[0]), Double.parseDouble(p[1]))
          .withRrfK(Integer.parseInt(p[2])).withNeighbourWeight(Double.parseDouble(p[3]));
      if (p.length > 4) {
        c = c.withTimeWeight(Double.parseDouble(p[4]));
      }
      SearchIndex index = new SearchIndex(opened.store(), embedder, c);
      Scores s = score(questions, diaIdOf, (q, i) -> index.search(userOf.get(q.conversation()), request(q, maxK), vectors.get(i)));
      StringBuilder line = new StringBuilder("grid " + entry + ":");
      for (int j = 0; j < ks.length; j++) {
        line.append(String.format(" R@%d %.1f/%.1f", ks[j], s.overall(j), 100 * s.strict().get("overall")[j] / s.counts().get("overall")));
      }
      int at10 = Math.min(1, ks.length - 1);
      for (var e : s.sums().entrySet()) {
        String bucket = e.getKey();
        if (!bucket.equals("overall")) {
          int n = s.counts().get(bucket);
          line.append(String.format(" %s@10 %.1f/%.1f", bucket, 100 * e.getValue()[at10] / n, 100 * s.strict().get(bucket)[at10] / n));
        }
      }
      out.println(line);
      out.flush();
    }
  }

  private void explain(PrintWriter out, MemoryService service, List<Question> questions, Map<String, String> userOf,
      Map<String, Map<UUID, String>> diaIdOf) {
    int shown = 0;
    for (Question q : questions) {
      if (shown >= explain || q.evidence().isEmpty()) {
        continue;
      }
      List<SearchHit> hits = service.search(userOf.get(q.conversation()), request(q, 10));
      Map<UUID, String> ids = diaIdOf.get(q.conversation());
      Set<String> top = new HashSet<>();
      hits.forEach(h -> top.add(ids.get(h.memory().id())));
      if (top.containsAll(q.evidence())) {
        continue;
      }
      shown++;
      out.printf("MISS [%s] %s  evidence=%s%n", CATEGORY_NAMES.get(q.category()), q.text(), q.evidence());
      for (SearchHit h : hits.subList(0, Math.min(3, hits.size()))) {
        out.printf("   got %s %.2f %s%n", ids.get(h.memory().id()), h.score(), h.memory().content().substring(0, Math.min(110, h.memory().content().length())));
      }
      for (String e : q.evidence()) {
        ids.entrySet().stream().filter(x -> x.getValue().equals(e)).findFirst().ifPresent(x -> {
          String c = service.store().get(userOf.get(q.conversation()), x.getKey()).content();
          out.printf("   want %s %s%n", e, c.substring(0, Math.min(140, c.length())));
        });
      }
    }
  }

  /** Development aid: each question's first {@code maxK} hits as dia ids, one JSON line per question. */
  private void writeDump(MemoryService service, List<Question> questions, Map<String, String> userOf,
      Map<String, Map<UUID, String>> diaIdOf, int maxK) throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    try (PrintWriter w = new PrintWriter(dump, StandardCharsets.UTF_8)) {
      for (Question q : questions) {
        List<String> ranked = new ArrayList<>();
        Map<UUID, String> ids = diaIdOf.get(q.conversation());
        service.search(userOf.get(q.conversation()), request(q, maxK)).forEach(h -> ranked.add(ids.get(h.memory().id())));
        w.println(mapper.writeValueAsString(Map.of("conversation", q.conversation(), "category", q.category(),
            "question", q.text(), "evidence", q.evidence(), "ranked", ranked)));
      }
    }
  }

  /** Session numbers from the {@code session_<n>} lists (not the date keys), ascending. */
  private static List<Integer> sessions(JsonNode conversation) {
    List<Integer> numbers = new ArrayList<>();
    for (Iterator<String> it = conversation.fieldNames(); it.hasNext(); ) {
      Matcher m = SESSION_KEY.matcher(it.next());
      if (m.matches() && conversation.path(m.group()).isArray()) {
        numbers.add(Integer.parseInt(m.group(1)));
      }
    }
    numbers.sort(null);
    return numbers;
  }

  /** {@code 1:56 pm on 8 May, 2023} as UTC; {@code null} when absent or not in that form. */
  static Instant sessionTime(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return LocalDateTime.parse(text.strip(), SESSION_TIME).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  static double percentile(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  static double mean(long[] values) {
    return values.length == 0 ? 0 : Arrays.stream(values).average().orElse(0);
  }

  static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
