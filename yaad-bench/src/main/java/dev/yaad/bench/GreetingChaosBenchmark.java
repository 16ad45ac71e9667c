package dev.yaad.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.agent.AgentRuntime;
import dev.yaad.agent.Session;
import dev.yaad.agent.SessionListener;
import dev.yaad.agent.SessionState;
import dev.yaad.agent.Speech;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.memory.Memories;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.EmbeddingOptions;
import dev.yaad.testing.ScriptedLlmServer;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code greeting-chaos}: many callers join, their connection becomes ready a little later,
 * and each leaves at a random time in {@code [0, --leave-max-ms]} after joining — often
 * before or during the greeting. The predecessor crashed here ("AgentSession is closing").
 *
 * <p>Everything runs in this process: the agent runtime (real sessions, real LangChain4j
 * client over loopback HTTP, real H2 or PostgreSQL store with seeded users) and the
 * scripted LLM server with realistic latency (time to first token, then per token).
 *
 * <p>Reported: errors surfaced (greetings that failed, exceptions from the session API),
 * greetings sent after the caller left (any greeting delta after the session turned
 * {@code CLOSING}; must be 0), callers who stayed and were not greeted (stayed at least
 * {@code --stay-ms} after ready, yet no completed greeting; must be 0), duplicate greetings
 * (more than one greeting started in a session; must be 0), and ready → first greeting token
 * p50/p99, also net of the scripted first-token latency (target ≤ 300 ms).
 *
 * <p>Run: {@code greeting-chaos --sessions 2000 --json}; the JSON is the last line.
 */
@Command(name = "greeting-chaos", mixinStandardHelpOptions = true,
    description = "Callers leave at random times around the greeting: nothing may be sent after they left.")
final class GreetingChaosBenchmark implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--sessions", defaultValue = "2000", description = "callers in total (default ${DEFAULT-VALUE})")
  int sessions;

  @Option(names = "--concurrency", defaultValue = "200", description = "callers connected at once (default ${DEFAULT-VALUE})")
  int concurrency;

  @Option(names = "--leave-max-ms", defaultValue = "2000", description = "callers leave uniformly in [0, this] ms after joining")
  int leaveMaxMs;

  @Option(names = "--ready-max-ms", defaultValue = "150", description = "connections become ready uniformly in [0, this] ms after joining")
  int readyMaxMs;

  @Option(names = "--ttft-ms", defaultValue = "250", description = "scripted LLM time to first token (default ${DEFAULT-VALUE})")
  int ttftMs;

  @Option(names = "--per-token-ms", defaultValue = "25", description = "scripted LLM time per further token (default ${DEFAULT-VALUE})")
  int perTokenMs;

  @Option(names = "--stay-ms", description = "a caller who leaves at least this long after ready 'stayed' and must have been greeted"
      + " (default: ttft + 30 tokens + 500 ms)")
  Integer stayMs;

  @Option(names = "--warmup", defaultValue = "2000", description = "callers run first, checked but not timed (JIT warm-up; default ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--users", defaultValue = "500", description = "seeded users with a goal, a plan and a profile")
  int users;

  @Mixin ScratchStoreOptions scratch;

  @Mixin EmbeddingOptions embedding;

  @Option(names = "--seed", defaultValue = "42")
  long seed;

  @Option(names = "--json", description = "print the result as one JSON line (the last line)")
  boolean json;

  /** One caller: its timeline and what its session told it. */
  private final class Caller implements SessionListener {
    final String user;
    final long readyDelayMs;
    final long leaveDelayMs;
    volatile Session session;
    volatile long readyNanos;
    volatile boolean becameReady;
    volatile long leaveNanos;
    volatile boolean closing;
    volatile long firstGreetingDeltaNanos;
    volatile Speech.Outcome greetingOutcome;
    final AtomicInteger greetingsStarted = new AtomicInteger();
    final AtomicInteger deltasAfterLeave = new AtomicInteger();
    final List<String> errors = new ArrayList<>(0);

    Caller(String user, long readyDelayMs, long leaveDelayMs) {
      this.user = user;
      this.readyDelayMs = readyDelayMs;
      this.leaveDelayMs = leaveDelayMs;
    }

    @Override
    public void onStateChanged(Session s, SessionState from, SessionState to) {
      if (to == SessionState.CLOSING) {
        closing = true; // the moment of leaving, atomic with delta delivery
      }
    }

    @Override
    public void onSpeechStarted(Session s, Speech speech) {
      if (speech.kind() == Speech.Kind.GREETING) {
        greetingsStarted.incrementAndGet();
      }
    }

    @Override
    public void onDelta(Session s, Speech speech, String text) {
      if (speech.kind() != Speech.Kind.GREETING) {
        return;
      }
      if (closing) {
        deltasAfterLeave.incrementAndGet();
      }
      if (firstGreetingDeltaNanos == 0) {
        firstGreetingDeltaNanos = System.nanoTime();
      }
    }

    @Override
    public void onSpeechEnded(Session s, Speech speech) {
      if (speech.kind() == Speech.Kind.GREETING) {
        greetingOutcome = speech.outcome();
        if (speech.outcome() == Speech.Outcome.FAILED) {
          synchronized (errors) {
            errors.add("greeting failed: " + speech.error());
          }
        }
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    StoreConfig storeConfig = scratch.storeConfig("yaad-greeting-chaos");
    int stay = stayMs != null ? stayMs : ttftMs + 30 * perTokenMs + 500;
    Random random = new Random(seed);
    // The in-process cache off: every snapshot is read from the database, as this benchmark always measured.
    try (Memories store = Memories.builder().store(storeConfig).embedder(embedding.embedder()).cache(CacheConfig.defaults().withL1MaxWeightBytes(0)).build();
        ScriptedLlmServer llmServer = ScriptedLlmServer.start()
            .latency(Duration.ofMillis(ttftMs), Duration.ofMillis(perTokenMs)).recordCalls(false);
        Llm llm = Llm.openAiCompatible(LlmConfig.of(llmServer.baseUrl(), null, "scripted")
            .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(30)))) {
      seedUsers(store);
      AgentRuntime runtime = AgentRuntime.builder().memory(new MemoriesAccess(store)).llm(llm).build();
      ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);
      List<Caller> warmupCallers = new ArrayList<>(warmup);
      AtomicInteger warmupApiErrors = new AtomicInteger();
      if (warmup > 0) {
        // A fresh JVM is still compiling the HTTP client, the server and the session paths for
        // the first ~2000 callers: run them, check them, but keep their latencies apart.
        run(runtime, clock, warmup, random, warmupApiErrors, new ArrayList<>(), warmupCallers);
      }
      AtomicInteger apiErrors = new AtomicInteger();
      List<String> apiErrorSamples = new ArrayList<>();
      List<Caller> callers = new ArrayList<>(sessions);
      long start = System.nanoTime();
      boolean allDone = run(runtime, clock, sessions, random, apiErrors, apiErrorSamples, callers);
      double seconds = (System.nanoTime() - start) / 1e9;
      clock.shutdownNow();
      int openAfter = runtime.openSessions();
      runtime.close();
      ObjectNode cold = summarise(warmupCallers, stay, warmupApiErrors.get(), new ArrayList<>());
      report(callers, stay, apiErrors.get(), apiErrorSamples, allDone, openAfter, seconds, storeConfig, cold);
      return 0;
    } finally {
      scratch.cleanUp();
    }
  }

  /** Runs {@code count} callers to the end; false if some were still connected after 5 minutes. */
  private boolean run(AgentRuntime runtime, ScheduledExecutorService clock, int count, Random random,
      AtomicInteger apiErrors, List<String> apiErrorSamples, List<Caller> callers) throws InterruptedException {
    Semaphore slots = new Semaphore(concurrency);
    CountDownLatch finished = new CountDownLatch(count);
    for (int i = 0; i < count; i++) {
      Caller c = new Caller("user-" + random.nextInt(users), random.nextInt(readyMaxMs + 1), random.nextInt(leaveMaxMs + 1));
      callers.add(c);
      slots.acquire();
      try {
        c.session = runtime.open(c.user, c);
      } catch (RuntimeException e) {
        recordApiError(apiErrors, apiErrorSamples, e);
        slots.release();
        finished.countDown();
        continue;
      }
      clock.schedule(() -> {
        try {
          c.readyNanos = System.nanoTime();
          c.becameReady = c.session.ready();
        } catch (RuntimeException e) {
          recordApiError(apiErrors, apiErrorSamples, e);
        }
      }, c.readyDelayMs, TimeUnit.MILLISECONDS);
      clock.schedule(() -> {
        try {
          c.leaveNanos = System.nanoTime();
          c.session.close();
        } catch (RuntimeException e) {
          recordApiError(apiErrors, apiErrorSamples, e);
        } finally {
          slots.release();
          finished.countDown();
        }
      }, c.leaveDelayMs, TimeUnit.MILLISECONDS);
    }
    return finished.await(5, TimeUnit.MINUTES);
  }

  /** The invariants and latencies of a group of callers. */
  private ObjectNode summarise(List<Caller> callers, int stay, int apiErrors, List<String> samples) {
    int greetingErrors = 0;
    int sentAfterLeave = 0;
    int deltasAfterLeave = 0;
    int duplicates = 0;
    int stayed = 0;
    int stayedNotGreeted = 0;
    int leftBeforeReady = 0;
    int cancelledDuringGreeting = 0;
    int completed = 0;
    long[] firstToken = new long[callers.size()];
    int measured = 0;
    for (Caller c : callers) {
      synchronized (c.errors) {
        greetingErrors += c.errors.size();
        if (samples.size() < 3) {
          samples.addAll(c.errors);
        }
      }
      if (c.deltasAfterLeave.get() > 0) {
        sentAfterLeave++;
        deltasAfterLeave += c.deltasAfterLeave.get();
      }
      if (c.greetingsStarted.get() > 1) {
        duplicates++;
      }
      if (!c.becameReady) {
        leftBeforeReady++;
        continue;
      }
      if (c.greetingOutcome == Speech.Outcome.COMPLETED) {
        completed++;
      } else if (c.greetingOutcome == Speech.Outcome.CANCELLED) {
        cancelledDuringGreeting++;
      }
      if (c.leaveNanos - c.readyNanos >= TimeUnit.MILLISECONDS.toNanos(stay)) {
        stayed++;
        if (c.greetingOutcome != Speech.Outcome.COMPLETED) {
          stayedNotGreeted++;
        }
      }
      if (c.firstGreetingDeltaNanos != 0) {
        firstToken[measured++] = c.firstGreetingDeltaNanos - c.readyNanos;
      }
    }
    long[] sorted = Arrays.copyOf(firstToken, measured);
    Arrays.sort(sorted);
    double p50 = measured == 0 ? Double.NaN : percentile(sorted, 50) / 1e6;
    double p99 = measured == 0 ? Double.NaN : percentile(sorted, 99) / 1e6;
    ObjectNode out = new ObjectMapper().createObjectNode();
    out.put("sessions", callers.size());
    out.put("errors", apiErrors + greetingErrors);
    out.put("greetingsSentAfterLeave", sentAfterLeave);
    out.put("greetingDeltasAfterLeave", deltasAfterLeave);
    out.put("stayedNotGreeted", stayedNotGreeted);
    out.put("duplicateGreetings", duplicates);
    out.put("stayed", stayed);
    out.put("leftBeforeReady", leftBeforeReady);
    out.put("greetingCancelledByLeave", cancelledDuringGreeting);
    out.put("greetingCompleted", completed);
    out.put("readyToFirstTokenSamples", measured);
    out.put("readyToFirstTokenP50Ms", round(p50));
    out.put("readyToFirstTokenP99Ms", round(p99));
    out.put("overheadP50Ms", round(p50 - ttftMs));
    out.put("overheadP99Ms", round(p99 - ttftMs));
    return out;
  }

  private void report(List<Caller> callers, int stay, int apiErrors, List<String> apiErrorSamples, boolean allDone,
      int openAfter, double seconds, StoreConfig storeConfig, ObjectNode cold) {
    PrintWriter printer = spec.commandLine().getOut();
    List<String> samples = new ArrayList<>(apiErrorSamples);
    ObjectNode measured = summarise(callers, stay, apiErrors, samples);
    ObjectNode out = new ObjectMapper().createObjectNode();
    out.put("benchmark", "greeting-chaos");
    out.put("concurrency", concurrency);
    out.put("store", storeConfig.jdbcUrl().startsWith("jdbc:h2:") ? "h2" : "postgresql");
    out.put("scriptedTtftMs", ttftMs);
    out.put("scriptedPerTokenMs", perTokenMs);
    out.put("leaveMaxMs", leaveMaxMs);
    out.put("readyMaxMs", readyMaxMs);
    out.put("stayMs", stay);
    out.setAll(measured);
    // Failures to finish count as errors of the measured run.
    out.put("errors", measured.path("errors").asInt() + (allDone ? 0 : 1) + openAfter);
    out.put("sessionsNotClosed", openAfter);
    out.put("seconds", round(seconds));
    out.set("warmup", cold);
    if (!json) {
      printer.printf(Locale.ROOT, "greeting-chaos: %d sessions (%d at once, after %d warm-up callers) in %.1f s; scripted LLM %d ms + %d ms/token%n",
          callers.size(), concurrency, warmup, seconds, ttftMs, perTokenMs);
      printer.printf(Locale.ROOT, "  errors %d, sent after leave %d, stayed (>= %d ms) but not greeted %d of %d, duplicates %d%n",
          out.path("errors").asInt(), out.path("greetingsSentAfterLeave").asInt(), stay, out.path("stayedNotGreeted").asInt(),
          out.path("stayed").asInt(), out.path("duplicateGreetings").asInt());
      printer.printf(Locale.ROOT, "  left before ready %d, greeting cancelled by leave %d, completed %d%n",
          out.path("leftBeforeReady").asInt(), out.path("greetingCancelledByLeave").asInt(), out.path("greetingCompleted").asInt());
      printer.printf(Locale.ROOT, "  ready -> first greeting token: p50 %.1f ms, p99 %.1f ms (beyond the scripted %d ms: p50 %.1f, p99 %.1f)%n",
          out.path("readyToFirstTokenP50Ms").asDouble(), out.path("readyToFirstTokenP99Ms").asDouble(), ttftMs,
          out.path("overheadP50Ms").asDouble(), out.path("overheadP99Ms").asDouble());
      printer.printf(Locale.ROOT, "  warm-up (not measured): errors %d, sent after leave %d, duplicates %d, stayed but not greeted %d, overhead p99 %.1f ms%n",
          cold.path("errors").asInt(), cold.path("greetingsSentAfterLeave").asInt(), cold.path("duplicateGreetings").asInt(),
          cold.path("stayedNotGreeted").asInt(), cold.path("overheadP99Ms").asDouble());
      samples.stream().limit(3).forEach(s -> printer.println("  error: " + s));
    }
    printer.println(out);
  }

  private void seedUsers(Memories store) {
    String[] goals = {"run a half marathon", "learn to bake bread", "finish a thesis on Urdu poetry", "save for a trip to Skardu",
        "learn to swim", "get a driving licence", "read twelve novels this year", "start a small garden"};
    String[] plans = {"visit their mother on Sunday", "a job interview next week", "a wedding in Lahore next month",
        "a doctor's appointment on Friday", "a picnic at the lake", "moving to a new flat"};
    String[] names = {"Ayesha", "Bilal", "Sana", "Imran", "Fatima", "Omar", "Zainab", "Hamza"};
    for (int u = 0; u < users; u++) {
      String user = "user-" + u;
      try {
        if (store.profile(user).exists()) {
          continue; // seeded by an earlier run on the same database
        }
      } catch (dev.yaad.memory.NotFoundException e) {
        // a new user: seed below
      }
      String name = names[u % names.length];
      store.addAll(user, List.of(
          NewMemory.of("FACT", "Their name is " + name),
          NewMemory.of("GOAL", "wants to " + goals[u % goals.length]),
          NewMemory.of("PLAN", plans[u % plans.length])), false);
      store.putProfile(user, name + ", who wants to " + goals[u % goals.length] + ".", null);
    }
  }

  private static void recordApiError(AtomicInteger count, List<String> samples, RuntimeException e) {
    count.incrementAndGet();
    synchronized (samples) {
      if (samples.size() < 3) {
        samples.add(e.toString());
      }
    }
  }

  static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }

  static double round(double v) {
    return Double.isNaN(v) ? v : Math.round(v * 10) / 10.0;
  }
}
