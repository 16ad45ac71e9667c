package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import dev.yaad.testing.SpokenFixtures;
import dev.yaad.testing.ThreadCensus;
import dev.yaad.voice.VoiceConfig;
import dev.yaad.webrtc.WebRtcCall;
import dev.yaad.webrtc.WebRtcConfig;
import dev.yaad.webrtc.WebRtcTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Voice over WebRTC calls through a real server: a WebRTC peer in this JVM (the caller) offers
 * on a session's WebSocket, speaks English made by flite at test time, and hears the reply the
 * local engines (PocketSphinx, flite) make from the scripted LLM's answer. One voice pipeline
 * for both transports: the events arrive on the socket exactly as for WebSocket audio.
 */
class WebRtcCallTest {
  private static final String SAID = "please remember that my sister lives in lahore";
  private static final String REPLY = "Of course. I will remember that your sister lives in Lahore.";
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static ScriptedLlmServer llm;
  /** The caller's WebRTC engine (a browser's part); each test has its own. */
  private static WebRtcTransport caller;
  private static short[] speech;

  @TempDir
  static Path dir;

  @BeforeAll
  static void start() throws Exception {
    llm = ScriptedLlmServer.start().rule(c -> c.purpose() == Purpose.EXTRACT, c -> Answer.text("{\"memories\":[]}"))
        .rule(c -> true, c -> Answer.text(REPLY));
    speech = SpokenFixtures.english(SAID, 16_000, 0.3, 1.5);
  }

  @AfterAll
  static void stopAll() {
    if (llm != null) {
      llm.close();
    }
  }

  private static YaadServer startServer(Path data) {
    YaadServer.Config config = YaadServer.Config.of(TestStores.h2(data)).withAddress("127.0.0.1", 0)
        .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null)).withVoice(VoiceConfig.defaults());
    return new YaadServer(config, new YaadServer.AgentTuning(AgentConfig.defaults(), LearningConfig.defaults(),
        SessionApi.Settings.defaults().withLimits(1000, 100, SessionApi.Settings.DEFAULT_MAX_QUEUED_BYTES),
        WebRtcConfig.defaults())).start();
  }

  /** Waits for the session to be active (the greeting may still be streaming). */
  private static WsClient connect(int port, String user) {
    WsClient client = WsClient.connect(port, "userId=" + user + "&lang=en-US", null);
    JsonNode state;
    do {
      state = client.next("state");
    } while (!state.get("state").asText().equals("active"));
    return client;
  }

  /** Offers through the socket; {@code seen} gets every message read while waiting for the answer. */
  private static WebRtcCall dial(WsClient client, List<JsonNode> seen) {
    return caller.dial(offer -> {
      client.send(JsonNodeFactory.instance.objectNode().put("type", "webrtc_offer").put("sdp", offer).toString());
      JsonNode answer = client.next("webrtc_answer", seen);
      return answer.get("sdp").asText();
    });
  }

  @Test
  void speechOverACall_isTranscribed_andTheSpokenReplyComesBackOnTheCall() throws Exception {
    try (WebRtcTransport callers = WebRtcTransport.start(WebRtcConfig.defaults()); YaadServer server = startServer(dir.resolve("one")); WsClient client = connect(server.port(), "ali")) {
      client.next("reply_done"); // the greeting, as text: the call is not open yet
      List<JsonNode> seen = new ArrayList<>();
      caller = callers;
      WebRtcCall call = dial(client, seen);
      assertThat(seen).anySatisfy(m -> assertThat(m.get("type").asText()).isEqualTo("audio_ready"));
      List<long[]> loud = new CopyOnWriteArrayList<>(); // [nanos, rms] of what the caller hears
      call.onAudio(frame -> loud.add(new long[] {frame.receivedNanos(), rms(frame.samples()), frame.millis()}));
      assertThat(call.send(speech, 16_000)).isTrue();

      JsonNode transcript;
      do {
        transcript = client.next("transcript");
      } while (!transcript.get("isFinal").asBoolean());
      assertThat(transcript.get("text").asText()).containsAnyOf("sister", "remember", "lahore");
      Map<String, JsonNode> after = new TreeMap<>(); // the reply's text, the start and end of its audio: in any order
      long audioStarted = 0;
      while (!after.containsKey("reply_done") || !after.containsKey("audio_started") || !after.containsKey("audio_ended")) {
        JsonNode m = client.next();
        after.put(m.get("type").asText(), m);
        if (m.get("type").asText().equals("audio_started")) {
          audioStarted = System.nanoTime();
        }
      }
      assertThat(after.get("reply_done").get("text").asText()).isEqualTo(REPLY);
      assertThat(after.get("audio_ended").get("replyId").asText()).isEqualTo(after.get("audio_started").get("replyId").asText());
      long spokenFrom = audioStarted;
      // The reply is spoken on the call: loud frames reach the caller after audio_started (silence before).
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (loudMillis(loud, spokenFrom) < 500 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(loudMillis(loud, spokenFrom)).as("ms of loud reply audio heard").isGreaterThanOrEqualTo(500);

      client.send("{\"type\":\"webrtc_hangup\"}");
      assertThat(client.next("webrtc_ended").get("reason").asText()).isEqualTo("local");
      call.close();
      client.send("{\"type\":\"user_text\",\"text\":\"still there?\"}"); // the session goes on
      assertThat(client.next("reply_done").get("outcome").asText()).isEqualTo("completed");
    }
  }

  /**
   * Fifty calls through the server, ended at random moments in four ways (the caller closes its
   * peer, the client hangs up, the session ends, the connection is lost), some during setup and
   * some while the companion speaks: afterwards no session and no call is open. Then the server
   * stops in the middle of three calls; once it (and the callers' engine) is closed, the process
   * has no thread more than before it started.
   */
  @Test
  void fiftyCallsEndedAtRandomMoments_leaveNoSessionCallOrThread() throws Exception {
    Random random = new Random(13);
    try (WebRtcTransport callers = WebRtcTransport.start(WebRtcConfig.defaults());
        YaadServer warm = startServer(dir.resolve("warm")); WsClient client = connect(warm.port(), "warm")) {
      caller = callers;
      dial(client, new ArrayList<>()).close(); // loads what loads once per process (VAD, engines)
    }
    Map<String, Integer> baseline = threads();
    int[] endings = new int[4];
    AtomicLong duringSetup = new AtomicLong();
    try (WebRtcTransport callers = WebRtcTransport.start(WebRtcConfig.defaults()); YaadServer server = startServer(dir.resolve("stress"))) {
      caller = callers;
      ExecutorService pool = Executors.newFixedThreadPool(5);
      List<Future<?>> rounds = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        int round = i;
        int ending = random.nextInt(4);
        long afterMs = random.nextInt(4000);
        endings[ending]++;
        rounds.add(pool.submit(() -> {
          callAndEnd(server.port(), "u" + round, ending, afterMs, duringSetup);
          return null;
        }));
      }
      for (Future<?> r : rounds) {
        r.get(3, TimeUnit.MINUTES);
      }
      pool.shutdown();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while ((openSessions(server) > 0 || openCalls(server) > 0) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(openSessions(server)).as("open sessions").isZero();
      assertThat(openCalls(server)).as("open calls").isZero();
      assertThat(server.meterRegistry().get("yaad.webrtc.closes.abandoned").functionCounter().count()).isZero();
      // Last, the server stops in the middle of three calls, the caller still speaking.
      List<WsClient> open = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        WsClient client = connect(server.port(), "stop" + i);
        open.add(client);
        dial(client, new ArrayList<>()).onAudio(frame -> { }).send(speech, 16_000);
      }
      Thread.sleep(1000); // not an assertion: the calls are carrying speech when the server stops
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    Map<String, Integer> now = threads();
    while (!noneAbove(now, baseline) && System.nanoTime() < deadline) {
      LockSupport.parkNanos(100_000_000L);
      now = threads();
    }
    assertThat(noneAbove(now, baseline)).as("threads after the server closed %s, against before it started %s", now, baseline)
        .isTrue();
    System.out.printf("webrtc calls: ok 50 calls, endings (peer closed, hangup, session end, connection lost) %s,"
        + " %d ended during setup; threads back to %d%n", java.util.Arrays.toString(endings), duringSetup.get(),
        baseline.values().stream().mapToInt(Integer::intValue).sum());
  }

  private static void callAndEnd(int port, String user, int ending, long afterMs, AtomicLong duringSetup) throws Exception {
    WsClient client = connect(port, user);
    WebRtcCall[] call = new WebRtcCall[1];
    boolean[] peerClosed = {false};
    Thread ender = Thread.ofVirtual().start(() -> {
      LockSupport.parkNanos(afterMs * 1_000_000L);
      if (call[0] == null) {
        duringSetup.incrementAndGet();
      }
      try {
        switch (ending) {
          case 0 -> {
            WebRtcCall c = call[0];
            if (c != null) {
              c.close();
              peerClosed[0] = true;
            } else {
              client.abort(); // nothing to close yet: the caller vanishes altogether
            }
          }
          case 1 -> client.send("{\"type\":\"webrtc_hangup\"}");
          case 2 -> client.send("{\"type\":\"end\"}");
          default -> client.abort();
        }
      } catch (RuntimeException e) {
        // the socket is gone already
      }
    });
    try {
      call[0] = dial(client, new ArrayList<>()).onAudio(frame -> { });
      call[0].send(speech, 16_000);
    } catch (RuntimeException | AssertionError e) {
      // ended during setup: the offer's answer never came, or came too late
    }
    ender.join();
    if (peerClosed[0]) {
      // The caller vanished with its session still open: the server notices, ends the call and says so.
      long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
      JsonNode ended = null;
      while (ended == null && System.nanoTime() < deadline) {
        try {
          ended = client.next("webrtc_ended");
        } catch (AssertionError quiet) {
          // nothing for 10 s: keep waiting until the deadline
        }
      }
      assertThat(ended).as("webrtc_ended after the caller closed its peer").isNotNull();
      assertThat(ended.get("reason").asText()).isIn("peer_gone", "ice_failed"); // ICE consent lost: WebRTC says either
    }
    client.close();
    if (call[0] != null) {
      call[0].close();
    }
  }

  /** No thread name counts more threads in {@code now} than in {@code baseline}. */
  private static boolean noneAbove(Map<String, Integer> now, Map<String, Integer> baseline) {
    return now.entrySet().stream().allMatch(e -> e.getValue() <= baseline.getOrDefault(e.getKey(), 0));
  }

  private static double openSessions(YaadServer server) {
    return server.meterRegistry().get("yaad.agent.sessions.active").gauge().value();
  }

  private static double openCalls(YaadServer server) {
    return server.meterRegistry().get("yaad.webrtc.calls").gauge().value();
  }

  /** Ms of frames louder than RMS 300 received after {@code from} ({receivedNanos, rms, millis} each). */
  private static long loudMillis(java.util.Collection<long[]> frames, long from) {
    return frames.stream().filter(f -> f[0] > from && f[1] > 300).mapToLong(f -> f[2]).sum();
  }

  private static long rms(short[] pcm) {
    double sum = 0;
    for (short s : pcm) {
      sum += (double) s * s;
    }
    return Math.round(Math.sqrt(sum / Math.max(1, pcm.length)));
  }

  /** Live threads (ThreadCensus), minus the test's own HTTP and WebSocket clients (the JDK's) and the JDK's virtual-thread I/O poller. */
  static Map<String, Integer> threads() throws IOException {
    return ThreadCensus.threads(name -> name.startsWith("HttpClient-") || name.equals("MasterPoller"));
  }
}
