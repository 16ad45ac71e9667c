package dev.yaad.server;

import dev.yaad.agent.AgentRuntime;
import dev.yaad.agent.MicrometerAgentMetrics;
import dev.yaad.agent.learning.Learner;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.agent.memory.MemoryAccess;
import dev.yaad.memory.Memories;
import dev.yaad.server.auth.Authenticator;
import dev.yaad.server.cluster.ClusterEvents;
import dev.yaad.server.http.SessionApi;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The conversation side of a server with an LLM: the LLM client, background learning (its
 * outbox in the store's own database), the agent runtime, and the WebSocket endpoint in front
 * of them. Built by {@link YaadServer#start()} and closed by it in order: sessions (each
 * client gets {@code closing}, {@code closed} and a {@code 1001}), then the runtime and the
 * learner (work not done stays in the outbox for the next start), then the LLM client. The
 * store is closed after all of them, by the server.
 */
final class Companion implements AutoCloseable {
  private final Llm llm;
  private final AgentRuntime runtime;
  private final SessionApi sessions;

  private Companion(Llm llm, AgentRuntime runtime, SessionApi sessions) {
    this.llm = llm;
    this.runtime = runtime;
    this.sessions = sessions;
  }

  /** @param memories the memory engine: the agent's port sits on it, learning's outbox lives in its database */
  static Companion start(Memories memories, LlmSettings settings, YaadServer.AgentTuning tuning, MeterRegistry registry,
      Authenticator authenticator, ClusterEvents events) {
    LlmConfig llmConfig = settings.llmConfig();
    MemoryAccess memory = new MemoriesAccess(memories); // shared by tools and learning
    MicrometerAgentMetrics metrics = new MicrometerAgentMetrics(registry);
    Llm llm = Llm.openAiCompatible(llmConfig);
    Learner learner = null;
    AgentRuntime runtime = null;
    try {
      learner = Learner.builder().dataSource(memories.dataSource()).memory(memory).llm(llm).config(tuning.learning())
          .metrics(metrics).build();
      runtime = AgentRuntime.builder().memory(memory).llm(llm).learner(learner).config(tuning.agent()).metrics(metrics).build();
      metrics.monitor(runtime);
      return new Companion(llm, runtime, new SessionApi(runtime, authenticator, tuning.sessions(), events));
    } catch (RuntimeException e) {
      if (runtime != null) {
        runtime.close();
      } else if (learner != null) {
        learner.close();
      }
      llm.close();
      throw e;
    }
  }

  SessionApi sessions() {
    return sessions;
  }

  /** Closes the sessions only (while the HTTP server still runs, so their close frames go out). */
  void closeSessions() {
    sessions.close();
  }

  @Override
  public void close() {
    try {
      sessions.close();
      runtime.close(); // then the learner: what is not done stays in the outbox
    } finally {
      llm.close();
    }
  }
}
