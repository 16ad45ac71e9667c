package dev.yaad.server;

import dev.yaad.agent.AgentRuntime;
import dev.yaad.agent.MicrometerAgentMetrics;
import dev.yaad.agent.Session;
import dev.yaad.agent.SessionListener;
import dev.yaad.agent.learning.Learner;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.agent.memory.MemoryAccess;
import dev.yaad.memory.AddResult;
import dev.yaad.memory.Memories;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.auth.Authenticator;
import dev.yaad.server.http.HttpApp;
import dev.yaad.server.http.MemoryApi;
import dev.yaad.server.http.SessionApi;
import dev.yaad.server.limit.Rate;
import dev.yaad.server.ops.Metrics;
import dev.yaad.server.ops.Readiness;
import dev.yaad.voice.AudioOut;
import dev.yaad.voice.Voice;
import dev.yaad.voice.VoiceConfig;
import dev.yaad.voice.VoiceEvent;
import dev.yaad.voice.VoiceSession;
import dev.yaad.webrtc.IceServer;
import dev.yaad.webrtc.WebRtcCall;
import dev.yaad.webrtc.WebRtcConfig;
import dev.yaad.webrtc.WebRtcTransport;
import io.javalin.Javalin;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every code example of the documentation, compiled here: a Javadoc {@code {@snippet :}}
 * block in main sources and a fenced {@code java} block in {@code README.md} and
 * {@code docs/*.md} must each be one of the regions below, line for line
 * ({@link SnippetsTest} checks it, and runs the regions it can run). To change an example,
 * change it here first.
 */
final class Snippets {
  private Snippets() {}

  /** {@code Memories}' class comment. */
  static void memories(Path dir) {
    // @start region="memories"
    Memories memories = Memories.builder()
        .store(StoreConfig.of("jdbc:h2:file:" + dir.resolve("yaad")))
        .embedder(OnnxEmbedder.shared())
        .build();
    AddResult saved = memories.add("u-42", NewMemory.of("PREFERENCE", "Loves green tea with cardamom"));
    List<SearchHit> hits = memories.search("u-42", SearchRequest.of("what does she drink?", 5));
    Snapshot snapshot = memories.snapshot("u-42", List.of(), 5); // the profile + the newest 5 of each category
    memories.close();
    // @end
    check(saved.outcome() == AddResult.Outcome.ADDED && hits.size() == 1 && snapshot.memoryCount() == 1, "memories");
  }

  /** docs/cache.md: the cache is configured on the front door. */
  static void cache(StoreConfig storeConfig, MeterRegistry meterRegistry, String userId) {
    // @start region="cache"
    Memories memories = Memories.builder()
        .store(storeConfig)
        .cache(CacheConfig.fromEnv())   // YAAD_REDIS_URL set -> L1 + L2 + bus; else L1 only
        .meterRegistry(meterRegistry)   // the yaad.cache.* meters
        .build();
    // at call start, before the greeting:
    Optional<Snapshot> known = memories.preload(userId);   // empty for a user not seen before
    memories.preloadAsync(userId);                         // or without waiting (the agent's MemoryAccess.preload)
    // @end
    check(known.isEmpty(), "cache");
    memories.close();
  }

  /** docs/agent.md "Using it", and the class comment of {@code AgentRuntime}. */
  static void agent(String jdbcUrl, Map<String, String> environment, SessionListener listener) throws Exception {
    // @start region="agent"
    Memories memories = Memories.builder().jdbcUrl(jdbcUrl).build();
    MemoryAccess memory = new MemoriesAccess(memories);            // the port; see "Memory" below
    Llm llm = Llm.openAiCompatible(LlmConfig.fromEnv(environment)); // YAAD_LLM_BASE_URL, YAAD_LLM_API_KEY, YAAD_LLM_MODEL
    Learner learner = Learner.builder()
        .dataSource(memories.dataSource()).memory(memory).llm(llm)  // the outbox table is in the memory schema
        .build();
    AgentRuntime runtime = AgentRuntime.builder().memory(memory).llm(llm).learner(learner).build();

    Session session = runtime.open("ali", listener);  // CONNECTING: the snapshot starts loading now
    session.language("ur-PK");                         // optional
    session.ready();                                   // the caller's connection is up: ACTIVE, greets
    session.reply("I start my new job on Monday", "t-1");
    session.close();                                   // the caller left: CLOSING → CLOSED
    // @end
    check(learner.drain(Duration.ofSeconds(20)), "agent: learning drained");
    runtime.close();
    llm.close();
    memories.close();
  }

  /** {@code YaadServer}'s class comment. */
  static void server(Path dir) {
    // @start region="server"
    YaadServer server = new YaadServer(YaadServer.Config.of(StoreConfig.of("jdbc:h2:file:" + dir.resolve("yaad")))
        .withAddress("127.0.0.1", 0)).start();
    int port = server.port();
    server.stop();
    // @end
    check(port > 0, "server");
  }

  /** {@code MemoryApi}'s class comment: the memory API alone, without authentication (tests). */
  static void memoryApi(Memories memories, int port) {
    // @start region="memory-api"
    Javalin app = MemoryApi.app(memories, MemoryApi.DEFAULT_MAX_BODY_BYTES).start("127.0.0.1", port);
    // @end
    app.stop();
  }

  /** {@code Rate}'s class comment. */
  static void rate() {
    // @start region="rate"
    Rate rate = Rate.parse("120/10s");   // 120 per 10 seconds, bursts of up to 120
    Rate off = Rate.parse("off");
    // @end
    check(rate.count() == 120 && rate.period().equals(Duration.ofSeconds(10)) && off.off(), "rate");
  }

  /** docs/operations.md: a component's meters go to the server's one registry. */
  static void meters(MeterRegistry meterRegistry, Memories memories, Llm llm) {
    // @start region="meters"
    MeterRegistry registry = meterRegistry;   // YaadServer.meterRegistry(): the one /metrics scrapes
    AgentRuntime runtime = AgentRuntime.builder()
        .memory(new MemoriesAccess(memories))
        .llm(llm)
        .metrics(new MicrometerAgentMetrics(registry))   // yaad-agent: the yaad.agent.* meters
        .build();
    // @end
    runtime.close();
  }

  // Compiled but not run: they need a live Redis connection, real keys, a running runtime or a WebRTC peer.

  /** {@code Readiness}' class comment. */
  static Readiness readiness(Memories memories, StatefulRedisConnection<String, String> redis) {
    // @start region="readiness"
    Readiness readiness = new Readiness(Duration.ofSeconds(2));
    readiness.add("database", Readiness.sql(memories.dataSource()));
    readiness.add("redis", () -> redis.sync().ping());
    // @end
    return readiness;
  }

  /** {@code AuthConfig}'s class comment. */
  static AuthConfig auth() {
    // @start region="auth"
    AuthConfig auth = AuthConfig.of("k-9f2c4e1a7b3d5f60,sha256:5e88...42d8", System.getenv("YAAD_TOKEN_SECRET"))
        .withAllowedOrigins("https://app.example.com");
    // @end
    return auth;
  }

  /** {@code SessionApi}'s class comment. */
  static HttpApp.Setup sessions(AgentRuntime runtime, Authenticator authenticator, Memories memories, long maxBody,
      Metrics metrics, Readiness readiness) {
    // @start region="sessions"
    SessionApi sessions = new SessionApi(runtime, authenticator, SessionApi.Settings.defaults());
    HttpApp.Setup setup = new HttpApp.Setup(memories, maxBody, authenticator, metrics, readiness, true, sessions::install);
    // on shutdown, before the runtime closes:
    sessions.close();  // every connection: closed 1001, its session closed through its state machine
    // @end
    return setup;
  }

  /** docs/webrtc.md "The API": a call's life as the voice pipeline will drive it (yaad-webrtc). */
  static String webrtc(MeterRegistry registry, String offerSdp, VoicePipeline pipeline, short[] ttsPcm) {
    // @start region="webrtc"
    WebRtcTransport transport = WebRtcTransport.start(WebRtcConfig.builder()
        .iceServers(List.of(IceServer.stun("stun:stun.example.org:3478")))
        .build());                                  // once per server: one native engine for all calls
    transport.bindTo(registry);                     // yaad.webrtc.* meters

    // Signalling endpoint (phase 2: authenticated like the session it belongs to):
    WebRtcCall call = transport.accept(offerSdp);  // blocks ≤ iceGatheringTimeout (2 s) for candidates
    call.onAudio(frame -> pipeline.hear(frame.samples()))   // 10 ms, mono, 16 kHz (or 48 kHz)
        .onState(state -> { if (state == WebRtcCall.State.CLOSED) pipeline.end(); });
    String answer = call.localDescription();        // the answer, every candidate inside: to the page
    // later, if the page trickles: call.addRemoteCandidate(sdpMid, sdpMLineIndex, candidate)

    // The pipeline speaks:
    call.send(ttsPcm, 24_000);                      // any rate 8–48 kHz; false = buffer full, retry later
    long dropped = call.clearSend();                // barge-in: what was queued is gone (ms returned)
    call.stats();                                   // ms heard, frames dropped, ms sent, ms queued
    call.close();                                   // idempotent, any thread; waits ≤ closeTimeout (10 s)
    transport.close();                              // at shutdown: closes every call, then the engine
    // @end
    return answer + " " + dropped;
  }

  /** yaad-voice's {@code Voice} class comment (compiled here, not run: it needs a session and a transport). */
  static void voice(MeterRegistry registry, Session session, VoiceEvents events, AudioOut audioOut, short[] pcmFrame,
      org.slf4j.Logger log) {
    // @start region="voice"
    Voice voice = Voice.start(VoiceConfig.defaults(), registry); // loads the VAD, finds the engines
    log.info(voice.describe());                                  // which languages it hears and speaks
    VoiceSession call = voice.open(session, events::send, audioOut, 16_000, 24_000);
    call.accept(pcmFrame);                                       // from the transport, 20 ms at a time
    call.close();                                                // the caller hung up
    // @end
    voice.close();
  }

  /** Where the voice example's events go: a transport's JSON messages. */
  interface VoiceEvents {
    void send(VoiceEvent event);
  }

  /** Where the WebRTC example's audio goes: the voice pipeline, a later phase of issue 13. */
  interface VoicePipeline {
    void hear(short[] samples);

    void end();
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError("the documented example did not do what it says: " + what);
    }
  }
}
