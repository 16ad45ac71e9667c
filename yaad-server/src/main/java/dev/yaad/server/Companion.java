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
import dev.yaad.server.http.WebRtcSignalling;
import dev.yaad.voice.Voice;
import dev.yaad.voice.VoiceConfig;
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
  private final Voice voice;
  private final SessionApi sessions;
  private final WebRtcSignalling webrtc;

  private Companion(Llm llm, AgentRuntime runtime, Voice voice, SessionApi sessions, WebRtcSignalling webrtc) {
    this.llm = llm;
    this.runtime = runtime;
    this.voice = voice;
    this.sessions = sessions;
    this.webrtc = webrtc;
  }

  /**
   * @param memories the memory engine: the agent's port sits on it, learning's outbox lives in its database
   * @param voiceConfig the speech engines, or {@code null} for text-only sessions
   */
  static Companion start(Memories memories, LlmSettings settings, VoiceConfig voiceConfig, YaadServer.AgentTuning tuning,
      MeterRegistry registry, Authenticator authenticator, ClusterEvents events) {
    LlmConfig llmConfig = settings.llmConfig();
    MemoryAccess memory = new MemoriesAccess(memories); // shared by tools and learning
    MicrometerAgentMetrics metrics = new MicrometerAgentMetrics(registry);
    Llm llm = Llm.openAiCompatible(llmConfig);
    Learner learner = null;
    AgentRuntime runtime = null;
    Voice voice = null;
    WebRtcSignalling webrtc = null;
    try {
      learner = Learner.builder().dataSource(memories.dataSource()).memory(memory).llm(llm).config(tuning.learning())
          .metrics(metrics).build();
      runtime = AgentRuntime.builder().memory(memory).llm(llm).learner(learner).config(tuning.agent()).metrics(metrics).build();
      metrics.monitor(runtime);
      voice = voiceConfig == null ? null : Voice.start(voiceConfig, registry);
      // Without speech engines a call would have nothing to talk to: no native engine then.
      webrtc = voice == null ? WebRtcSignalling.off("voice_unavailable", "this server has no speech engines (voice is off):"
          + " send user_text instead") : WebRtcSignalling.start(tuning.webrtc(), registry);
      return new Companion(llm, runtime, voice, new SessionApi(runtime, voice, authenticator, tuning.sessions(), events, webrtc), webrtc);
    } catch (RuntimeException e) {
      if (webrtc != null) {
        webrtc.close();
      }
      if (voice != null) {
        voice.close();
      }
      if (runtime != null) {
        runtime.close();
      } else if (learner != null) {
        learner.close();
      }
      llm.close();
      throw e;
    }
  }

  WebRtcSignalling webrtc() {
    return webrtc;
  }

  SessionApi sessions() {
    return sessions;
  }

  /** The speech engines, or {@code null} when sessions are text only. */
  Voice voice() {
    return voice;
  }

  /** Closes the sessions only (while the HTTP server still runs, so their close frames go out). */
  void closeSessions() {
    sessions.close();
  }

  @Override
  public void close() {
    try {
      sessions.close();
      webrtc.close(); // the calls the sessions left closing, then the native engine
      if (voice != null) {
        voice.close();
      }
      runtime.close(); // then the learner: what is not done stays in the outbox
    } finally {
      llm.close();
    }
  }
}
