package dev.yaad.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.memory.Memories;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.testing.ScriptedLlmServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Callers leaving at every moment around the greeting: a behaviour test of the invariants
 * (not a timing test; the figures come from yaad-bench greeting-chaos).
 */
class GreetingRaceTest {
  @TempDir Path dir;

  @Test
  void callersLeavingAtRandom_neverGetSpeechAfterLeaving_norTwoGreetings_norErrors() throws Exception {
    try (Memories store = Memories.builder().store(TestStores.h2(dir)).build();
        ScriptedLlmServer server = ScriptedLlmServer.start().latency(Duration.ofMillis(30), Duration.ofMillis(5));
        // Generous timeouts: a greeting that fails on a loaded machine would never deliver the delta some callers wait for.
        Llm llm = Llm.openAiCompatible(LlmConfig.of(server.baseUrl(), null, "scripted")
            .withTimeouts(Duration.ofSeconds(10), Duration.ofSeconds(60)))) {
      AgentRuntime runtime = AgentRuntime.builder().memory(new MemoriesAccess(store)).llm(llm).build();
      ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);
      Random random = new Random(7);
      List<Recorder> recorders = new ArrayList<>();
      List<Session> sessions = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        Recorder r = new Recorder();
        Session s = runtime.open("caller-" + (i % 10), r);
        recorders.add(r);
        sessions.add(s);
        switch (i % 3) {
          case 0 -> { // leaves at a random moment, often before ready or mid-greeting
            clock.schedule(s::ready, random.nextInt(40), TimeUnit.MILLISECONDS);
            clock.schedule(s::close, random.nextInt(150), TimeUnit.MILLISECONDS);
          }
          case 1 -> { // leaves the moment the greeting starts to arrive, from inside the listener
            s.addListener(new SessionListener() {
              @Override
              public void onDelta(Session session, Speech speech, String text) {
                session.close();
              }
            });
            clock.schedule(s::ready, random.nextInt(40), TimeUnit.MILLISECONDS);
          }
          default -> { // stays for the whole greeting
            clock.schedule(() -> {
              s.ready();
              s.greet().done().thenRun(s::close);
            }, random.nextInt(40), TimeUnit.MILLISECONDS);
          }
        }
        clock.schedule(() -> {
          s.greet(); // racing the automatic greeting
        }, random.nextInt(60), TimeUnit.MILLISECONDS);
      }
      // Every session ends; how soon is the machine's business: at load 20 the 150 took up to 14 s.
      CompletableFuture.allOf(sessions.stream().map(s -> s.closed().toCompletableFuture()).toArray(CompletableFuture[]::new))
          .get(60, TimeUnit.SECONDS);
      clock.shutdown();
      runtime.close();
      for (Recorder r : recorders) {
        assertThat(r.deltaAfterClosing).isFalse();
        assertThat(r.events.stream().filter(e -> e.equals("start GREETING")).count()).isLessThanOrEqualTo(1);
        assertThat(r.events).noneMatch(e -> e.contains("FAILED"));
        assertThat(r.events.getLast()).isEqualTo("CLOSING->CLOSED");
      }
      for (int i = 1; i < recorders.size(); i += 3) {
        assertThat(recorders.get(i).deltas).hasSize(1); // closed from inside the first delta: nothing after it
        assertThat(recorders.get(i).events).contains("end GREETING CANCELLED");
      }
      for (int i = 2; i < recorders.size(); i += 3) {
        assertThat(recorders.get(i).events).contains("end GREETING COMPLETED");
      }
    }
  }
}
