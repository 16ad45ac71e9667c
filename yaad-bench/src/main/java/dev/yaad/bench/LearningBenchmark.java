package dev.yaad.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.agent.learning.Learner;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.memory.Memories;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.EmbeddingOptions;
import dev.yaad.testing.ScriptedLlmServer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code learning}: how fast background learning learns a backlog of turns with a slow LLM.
 * Many users' sessions each hand over a full batch of turns at once; the benchmark times
 * until every turn is extracted (and its memories stored), for each LLM concurrency given,
 * one after another in the same run, the first being the baseline (2: the two fixed workers
 * learning had before). Each run then drains the profile refreshes its extractions asked for,
 * untimed, so that the next run starts from an empty outbox. Before the runs, an untimed
 * warm-up round (20 users) loads the embedding model and warms the JIT, so that the baseline
 * does not pay for them.
 */
@Command(name = "learning", mixinStandardHelpOptions = true,
    description = "Turns learned per second with a slow scripted LLM, for each learning LLM concurrency (the first is the baseline).")
final class LearningBenchmark implements Callable<Integer> {
  @Option(names = "--users", defaultValue = "200", description = "users (one session each; default ${DEFAULT-VALUE})")
  int users;

  @Option(names = "--turns", defaultValue = "4", description = "turns per user: one extraction batch (default ${DEFAULT-VALUE})")
  int turns;

  @Option(names = "--ttft-ms", defaultValue = "200", description = "scripted LLM time to first token (default ${DEFAULT-VALUE})")
  int ttftMs;

  @Option(names = "--concurrency", defaultValue = "2,8", split = ",",
      description = "learning LLM concurrencies to measure, the baseline first (default ${DEFAULT-VALUE})")
  List<Integer> concurrency;

  @Mixin ScratchStoreOptions scratch;

  @Mixin EmbeddingOptions embedding;

  @Option(names = "--json", description = "print the result as one JSON line (the last line)")
  boolean json;

  private static final String[] THINGS = {"grows roses in the garden", "plays cricket on Sundays", "teaches maths at a school",
      "bakes bread every morning", "collects old coins from Lahore", "runs along the river at dawn"};

  @Override
  public Integer call() throws Exception {
    StoreConfig storeConfig = scratch.storeConfig("yaad-learning-bench");
    ObjectMapper mapper = new ObjectMapper();
    ObjectNode out = mapper.createObjectNode();
    out.put("benchmark", "learning").put("users", users).put("turnsPerUser", turns).put("ttftMs", ttftMs);
    ArrayNode runs = out.putArray("runs");
    try (Memories store = Memories.builder().store(storeConfig).embedder(embedding.embedder()).build();
        ScriptedLlmServer llmServer = ScriptedLlmServer.start().latency(Duration.ofMillis(ttftMs), Duration.ZERO).recordCalls(false);
        Llm llm = Llm.openAiCompatible(LlmConfig.of(llmServer.baseUrl(), null, "scripted").withMaxRetries(0))) {
      MemoriesAccess memory = new MemoriesAccess(store);
      store.warmUpInBackground().join();
      learn(store, memory, llm, "warm-up", Math.min(users, 20), concurrency.getLast());
      double baseline = 0;
      for (int run = 0; run < concurrency.size(); run++) {
        int n = concurrency.get(run);
        LearningConfig config = LearningConfig.defaults().withBatch(turns, Duration.ofSeconds(20)).withConcurrency(n, 100_000);
        llmServer.resetPeakInFlight();
        try (Learner learner = Learner.builder().dataSource(store.dataSource()).memory(memory).llm(llm).config(config).build()) {
          int total = users * turns;
          long start = System.nanoTime();
          handOver(learner, "bench-" + run, users);
          while (learner.stats().turnsExtracted() < total) {
            Thread.sleep(20);
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          double perSecond = total / seconds;
          if (run == 0) {
            baseline = perSecond;
          }
          int peak = llmServer.peakInFlight();
          boolean drained = learner.drain(Duration.ofMinutes(10));
          ObjectNode r = runs.addObject();
          r.put("llmConcurrency", n).put("turns", total).put("seconds", round(seconds)).put("turnsPerSecond", round(perSecond))
              .put("ratioToBaseline", round(perSecond / baseline)).put("peakLlmCallsInFlight", peak)
              .put("extractionCalls", learner.stats().extractionCalls()).put("drained", drained);
          if (!json) {
            System.out.printf(Locale.ROOT, "concurrency %d: %d turns in %.2f s = %.1f turns/s (x%.2f), peak %d LLM calls in flight%n",
                n, total, seconds, perSecond, perSecond / baseline, peak);
          }
        }
      }
    } finally {
      scratch.cleanUp();
    }
    System.out.println(mapper.writeValueAsString(out));
    return 0;
  }

  /** Learns {@code count} users' turns and drains, untimed. */
  private void learn(Memories store, MemoriesAccess memory, Llm llm, String prefix, int count, int n) throws InterruptedException {
    LearningConfig config = LearningConfig.defaults().withBatch(turns, Duration.ofSeconds(20)).withConcurrency(n, 100_000);
    try (Learner learner = Learner.builder().dataSource(store.dataSource()).memory(memory).llm(llm).config(config).build()) {
      handOver(learner, prefix, count);
      learner.drain(Duration.ofMinutes(10));
    }
  }

  /** Each user's session hands over its turns, a full batch. */
  private void handOver(Learner learner, String prefix, int count) {
    for (int t = 0; t < turns; t++) {
      for (int u = 0; u < count; u++) {
        String user = prefix + "-" + u;
        learner.turnCompleted(user, user + "-session", "My friend number " + (u * turns + t) + " " + THINGS[t % THINGS.length], "Nice.");
      }
    }
  }

  private static double round(double x) {
    return Math.round(x * 100) / 100.0;
  }
}
