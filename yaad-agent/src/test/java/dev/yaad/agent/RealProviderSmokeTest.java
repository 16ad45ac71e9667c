package dev.yaad.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.memory.Memories;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.testing.Await;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A greeting and a tool-using turn against a real provider. Runs only when
 * {@code YAAD_LLM_BASE_URL} and a key ({@code YAAD_LLM_API_KEY} or {@code OPENAI_API_KEY})
 * are set, with {@code YAAD_LLM_MODEL} (default gpt-4o-mini); skipped with a visible line otherwise.
 */
class RealProviderSmokeTest {
  @TempDir Path dir;

  @BeforeAll
  static void needsAProvider() {
    boolean url = System.getenv("YAAD_LLM_BASE_URL") != null && !System.getenv("YAAD_LLM_BASE_URL").isBlank();
    boolean key = System.getenv("YAAD_LLM_API_KEY") != null || System.getenv("OPENAI_API_KEY") != null;
    if (!url || !key) {
      System.err.println("SKIPPED: RealProviderSmokeTest needs YAAD_LLM_BASE_URL and YAAD_LLM_API_KEY (or OPENAI_API_KEY)");
    }
    Assumptions.assumeTrue(url && key, "no real LLM provider configured");
  }

  @Test
  void greetsAndSavesAMemory_withARealModel() {
    try (Memories store = Memories.builder().store(TestStores.h2(dir)).build();
        Llm llm = Llm.openAiCompatible(LlmConfig.fromEnv().withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(60)))) {
      store.add("smoke", NewMemory.of("GOAL", "wants to run the Lahore marathon in March"));
      AgentRuntime runtime = AgentRuntime.builder().memory(new MemoriesAccess(store)).llm(llm).build();
      Recorder recorder = new Recorder();
      Session session = runtime.open("smoke", recorder);
      session.ready();
      Speech greeting = session.greet();
      assertThat(Await.done(greeting.done())).isEqualTo(Speech.Outcome.COMPLETED);
      assertThat(greeting.text()).isNotBlank();
      Speech reply = session.reply("Please remember that my sister Ayesha lives in Karachi.");
      assertThat(Await.done(reply.done())).isEqualTo(Speech.Outcome.COMPLETED);
      System.out.println("smoke: greeting: " + greeting.text() + "\nsmoke: reply: " + reply.text() + "\nsmoke: tools: " + recorder.tools);
      session.close();
      runtime.close();
    }
  }
}
