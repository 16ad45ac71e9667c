package dev.yaad.voice;

import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.AgentRuntime;
import dev.yaad.agent.Session;
import dev.yaad.agent.SessionListener;
import dev.yaad.agent.Speech;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.memory.Memories;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.testing.ScriptedLlmServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real agent session for voice tests, built as yaad-agent's tests build theirs: the agent
 * runtime, the scripted LLM server on loopback, the embedded H2 store. Records every voice event
 * and, in one timeline, their types and the session's speech ends.
 */
abstract class PipelineTestSupport {
  static final String LONG_REPLY = "Once upon a time there was a girl in Lahore who loved to sing. "
      + "Every morning she sang to the birds on the roof of her house. "
      + "Her grandmother listened from the kitchen and hummed along with her. "
      + "One day a travelling musician heard her song from the street below. "
      + "He knocked on the door and asked if she would sing with his band.";

  @TempDir static Path dir;
  static Memories store;
  static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  ScriptedLlmServer llmServer;
  Llm llm;
  AgentRuntime runtime;
  final List<VoiceEvent> events = new CopyOnWriteArrayList<>();
  final List<String> timeline = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void openStore() {
    store = Memories.builder().store(TestStores.h2(dir)).build();
  }

  @AfterAll
  static void closeStore() {
    store.close();
  }

  @BeforeEach
  void startAgent() {
    llmServer = ScriptedLlmServer.start();
    llm = Llm.openAiCompatible(LlmConfig.of(llmServer.baseUrl(), "test-key", "scripted")
        .withTimeouts(Duration.ofMillis(1500), Duration.ofSeconds(10)).withMaxRetries(2));
    runtime = AgentRuntime.builder().memory(new MemoriesAccess(store)).llm(llm)
        .config(AgentConfig.defaults().withGreetOnReady(false)).build();
  }

  @AfterEach
  void stopAgent() {
    runtime.close();
    llm.close();
    llmServer.close();
  }

  Session session(String user) {
    Session s = runtime.open(user, new SessionListener() {
      @Override
      public void onSpeechEnded(Session session, Speech speech) {
        timeline.add("speech_ended " + speech.kind() + " " + speech.outcome());
      }
    });
    s.ready();
    return s;
  }

  VoiceSession open(Voice voice, Session s, AudioOut out, int inRate, int outRate) {
    return voice.open(s, e -> {
      events.add(e);
      timeline.add(e.type());
    }, out, inRate, outRate);
  }

  <T extends VoiceEvent> List<T> events(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  List<String> finalTranscripts() {
    return events(VoiceEvent.Transcript.class).stream().filter(VoiceEvent.Transcript::isFinal).map(VoiceEvent.Transcript::text).toList();
  }
}
