package dev.yaad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.AgentRuntime;
import dev.yaad.agent.Session;
import dev.yaad.agent.Speech;
import dev.yaad.agent.learning.Learner;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.memory.Memories;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.EmbeddingOptions;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import java.io.File;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code replay}: replays LoCoMo conversations through real sessions — one speaker
 * ({@code speaker_a}) is the user, the scripted LLM answers — with background learning on,
 * and counts what learning cost and whether it lost anything.
 *
 * <p>Each LoCoMo session is one call: open, ready, the user's turns one after another
 * (each waits for the reply), close. Real sessions are days apart, so between sessions
 * the benchmark drains the learner ({@link Learner#drain}: everything waiting becomes due,
 * as it would after the pause delay and the profile interval had passed) before the next
 * call starts. Extraction and profile calls fail at random ({@code --failure-rate}) to
 * exercise the outbox's retries.
 *
 * <p>Reported: background LLM calls (extraction + profile, failed attempts included) per
 * user turn (target ≤ 0.5; the predecessor made 1.0 for the profile alone), profile
 * refreshes saved and skipped, and user turns whose extraction was lost (must be 0).
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = "Replays LoCoMo conversations through sessions; counts background LLM calls per user turn and lost turns.")
final class ReplayBenchmark implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--data", required = true, description = "the LoCoMo JSON file, e.g. ../shared/eval/locomo-dev.json")
  File data;

  @Option(names = "--conversations", defaultValue = "0", description = "replay only the first N conversations (0: all)")
  int conversations;

  @Option(names = "--batch-turns", defaultValue = "4", description = "turns per extraction batch (default ${DEFAULT-VALUE})")
  int batchTurns;

  @Option(names = "--failure-rate", defaultValue = "0.05", description = "share of background LLM calls that fail with HTTP 500")
  double failureRate;

  @Option(names = "--ttft-ms", defaultValue = "20", description = "scripted LLM time to first token")
  int ttftMs;

  @Option(names = "--per-token-ms", defaultValue = "1", description = "scripted LLM time per further token")
  int perTokenMs;

  @Mixin ScratchStoreOptions scratch;

  @Mixin EmbeddingOptions embedding;

  @Option(names = "--seed", defaultValue = "42")
  long seed;

  @Option(names = "--json", description = "print the result as one JSON line (the last line)")
  boolean json;

  @Override
  public Integer call() throws Exception {
    JsonNode root = new ObjectMapper().readTree(data);
    StoreConfig storeConfig = scratch.storeConfig("yaad-replay");
    Random random = new Random(seed);
    AtomicInteger injected = new AtomicInteger();
    LearningConfig learning = LearningConfig.defaults()
        .withBatch(batchTurns, Duration.ofSeconds(20))
        .withRetry(Duration.ofMillis(50), Duration.ofSeconds(1))
        .withLease(Duration.ofMinutes(2), Duration.ofMillis(100));
    long start = System.nanoTime();
    // The in-process cache off: every snapshot is read from the database, as this benchmark always measured.
    try (Memories store = Memories.builder().store(storeConfig).embedder(embedding.embedder()).cache(CacheConfig.defaults().withL1MaxWeightBytes(0)).build();
        ScriptedLlmServer llmServer = ScriptedLlmServer.start()
            .latency(Duration.ofMillis(ttftMs), Duration.ofMillis(perTokenMs)).recordCalls(false);
        Llm sessionLlm = Llm.openAiCompatible(LlmConfig.of(llmServer.baseUrl(), null, "scripted"));
        // No inline retries for background calls: failures go back to the outbox, which is what we measure.
        Llm learnerLlm = Llm.openAiCompatible(LlmConfig.of(llmServer.baseUrl(), null, "scripted").withMaxRetries(0))) {
      llmServer.rule(c -> (c.purpose() == Purpose.EXTRACT || c.purpose() == Purpose.PROFILE) && fails(random),
          c -> {
            injected.incrementAndGet();
            return Answer.error(500);
          });
      MemoriesAccess memory = new MemoriesAccess(store);
      Learner learner = Learner.builder().dataSource(store.dataSource()).memory(memory).llm(learnerLlm).config(learning).build();
      AgentRuntime runtime = AgentRuntime.builder().memory(memory).llm(sessionLlm).learner(learner)
          .config(AgentConfig.defaults().withGreetOnReady(false)).build();

      int userTurns = 0;
      int replyFailures = 0;
      int sessionsReplayed = 0;
      int conversationsReplayed = 0;
      boolean drained = true;
      List<String> users = new ArrayList<>();
      for (JsonNode conv : root) {
        if (conversations > 0 && conversationsReplayed == conversations) {
          break;
        }
        conversationsReplayed++;
        JsonNode c = conv.path("conversation");
        String speaker = c.path("speaker_a").asText();
        String user = "locomo-" + conv.path("sample_id").asText();
        users.add(user);
        for (int n = 1; c.has("session_" + n) || c.has("session_" + (n + 1)); n++) {
          JsonNode turns = c.path("session_" + n);
          if (!turns.isArray() || turns.isEmpty()) {
            continue;
          }
          Session session = runtime.open(user);
          session.ready();
          for (JsonNode turn : turns) {
            if (!speaker.equals(turn.path("speaker").asText())) {
              continue; // the other speaker's lines are the companion's: the scripted LLM answers instead
            }
            String text = turn.path("text").asText();
            if (turn.hasNonNull("blip_caption")) {
              text += " [shares a photo: " + turn.path("blip_caption").asText() + "]";
            }
            if (text.isBlank()) {
              continue;
            }
            userTurns++;
            Speech reply = session.reply(text);
            Speech.Outcome outcome = reply.done().toCompletableFuture().get(60, TimeUnit.SECONDS);
            if (outcome != Speech.Outcome.COMPLETED) {
              replyFailures++;
            }
          }
          session.close();
          sessionsReplayed++;
          // Days pass between LoCoMo sessions: let everything waiting become due and finish.
          drained &= learner.drain(Duration.ofMinutes(2));
        }
      }
      drained &= learner.drain(Duration.ofMinutes(2));
      Learner.Stats stats = learner.stats();
      long pending = learner.pending();
      long memories = 0;
      for (String u : users) {
        memories += countMemories(store, u);
      }
      runtime.close();
      double seconds = (System.nanoTime() - start) / 1e9;
      report(stats, llmServer, userTurns, replyFailures, sessionsReplayed, conversationsReplayed, injected.get(),
          pending, drained, memories, seconds);
      return 0;
    } finally {
      scratch.cleanUp();
    }
  }

  private boolean fails(Random random) {
    synchronized (random) {
      return random.nextDouble() < failureRate;
    }
  }

  private static long countMemories(Memories store, String user) {
    long n = 0;
    String cursor = null;
    try {
      do {
        var page = store.list(user, null, 100, cursor);
        n += page.items().size();
        cursor = page.nextCursor();
      } while (cursor != null);
    } catch (dev.yaad.memory.NotFoundException e) {
      return 0;
    }
    return n;
  }

  private void report(Learner.Stats stats, ScriptedLlmServer llmServer, int userTurns, int replyFailures, int sessions,
      int convs, int injected, long pending, boolean drained, long memories, double seconds) {
    PrintWriter printer = spec.commandLine().getOut();
    int extractCalls = llmServer.count(Purpose.EXTRACT);
    int profileCalls = llmServer.count(Purpose.PROFILE);
    double perTurn = userTurns == 0 ? 0 : (double) (extractCalls + profileCalls) / userTurns;
    long lost = userTurns - stats.turnsExtracted();
    ObjectNode out = new ObjectMapper().createObjectNode();
    out.put("benchmark", "replay");
    out.put("data", data.getName());
    out.put("conversations", convs);
    out.put("sessions", sessions);
    out.put("userTurns", userTurns);
    out.put("batchTurns", batchTurns);
    out.put("backgroundLlmCalls", extractCalls + profileCalls);
    out.put("extractionCalls", extractCalls);
    out.put("profileCalls", profileCalls);
    out.put("backgroundLlmCallsPerUserTurn", Math.round(perTurn * 1000) / 1000.0);
    out.put("predecessorProfileCallsPerUserTurn", 1.0);
    out.put("profileRefreshesSaved", stats.profilesSaved());
    out.put("profileRefreshesSkippedUnchanged", stats.profilesUnchanged());
    out.put("turnsAccepted", stats.turnsAccepted());
    out.put("turnsExtracted", stats.turnsExtracted());
    out.put("turnsUnparseable", stats.turnsUnparseable());
    out.put("turnsLost", lost);
    out.put("outboxPendingAfterDrain", pending);
    out.put("drained", drained);
    out.put("failuresInjected", injected);
    out.put("failuresRetried", stats.failures());
    out.put("memoriesChanged", stats.memoriesChanged());
    out.put("memoriesStored", memories);
    out.put("replyFailures", replyFailures);
    out.put("seconds", Math.round(seconds * 10) / 10.0);
    if (!json) {
      printer.printf(Locale.ROOT, "replay: %d conversations, %d sessions, %d user turns in %.1f s%n", convs, sessions, userTurns, seconds);
      printer.printf(Locale.ROOT, "  background LLM calls: %d extraction + %d profile = %.3f per user turn (predecessor: 1.0 for the profile alone)%n",
          extractCalls, profileCalls, perTurn);
      printer.printf(Locale.ROOT, "  profile refreshes: %d saved, %d skipped as unchanged; %d memories stored%n",
          stats.profilesSaved(), stats.profilesUnchanged(), memories);
      printer.printf(Locale.ROOT, "  turns lost: %d (accepted %d, extracted %d, unparseable %d, pending %d); %d injected failures retried%n",
          lost, stats.turnsAccepted(), stats.turnsExtracted(), stats.turnsUnparseable(), pending, injected);
    }
    printer.println(out);
  }
}
