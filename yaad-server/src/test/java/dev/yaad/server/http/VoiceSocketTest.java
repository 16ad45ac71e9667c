package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.testing.ScriptedLlmServer;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.SpokenFixtures;
import dev.yaad.voice.VoiceConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Audio over the session socket, end to end: a real {@link YaadServer} with the voice pipeline
 * on the local engines (Silero VAD, PocketSphinx, flite), the scripted LLM server as its model,
 * and the JDK's WebSocket client streaming speech that flite and sox make here, in 20 ms frames
 * at real-time pace.
 */
class VoiceSocketTest {
  private static final int RATE = 16_000;
  private static final int FRAME = RATE / 50; // 20 ms
  private static final String STORY = "Once upon a time there was a small village by the river. ";

  private static ScriptedLlmServer llm;
  private static short[] sister;

  @TempDir
  Path dir;
  private YaadServer server;

  @BeforeAll
  static void startLlmAndFixtures() {
    if (!SpokenFixtures.available()) {
      String why = "flite, espeak-ng or sox is not installed (apt-get install -y flite espeak-ng sox)";
      if (System.getenv("CI") != null || System.getenv("YAAD_REQUIRE_SERVICES") != null) {
        throw new IllegalStateException(why);
      }
      System.out.println("SKIPPED: VoiceSocketTest: " + why);
      Assumptions.abort(why);
    }
    sister = SpokenFixtures.english("I am going to see my sister next week", RATE, 0.3, 1.5);
    llm = ScriptedLlmServer.start()
        .rule(c -> c.purpose() == Purpose.CONVERSATION && c.lastUserMessage().contains("story"),
            c -> Answer.text(STORY.repeat(30)))
        .rule(c -> c.purpose() == Purpose.CONVERSATION && c.lastUserMessage().isEmpty(), c -> Answer.text("Hello."))
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("You said: " + c.lastUserMessage() + "."));
  }

  @AfterAll
  static void stopLlm() {
    if (llm != null) {
      llm.close();
    }
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private int start(VoiceConfig voice, SessionApi.Settings sessions) {
    YaadServer.Config config = YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
        .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null)).withVoice(voice);
    server = new YaadServer(config, new YaadServer.AgentTuning(AgentConfig.defaults(), LearningConfig.defaults(), sessions))
        .start();
    return server.port();
  }

  private int start() {
    return start(VoiceConfig.defaults(), SessionApi.Settings.defaults());
  }

  /** Connects, reads to the end of the greeting and its audio, and starts audio at 16 kHz. */
  private static WsClient voiceSession(int port, String lang) {
    WsClient client = WsClient.connect(port, "userId=ali&lang=" + lang, null);
    client.next("reply_done");
    client.send("{\"type\":\"audio_start\",\"inputRate\":16000}");
    JsonNode ready = client.next("audio_ready");
    assertThat(ready.get("inputRate").asInt()).isEqualTo(RATE);
    assertThat(ready.get("outputRate").asInt()).isEqualTo(RATE);
    assertThat(ready.get("listen").asBoolean()).isTrue();
    assertThat(ready.get("speak").asBoolean()).isTrue();
    return client;
  }

  /** Streams {@code pcm} in 20 ms frames at real time, as a microphone would. */
  private static void stream(WsClient client, short[] pcm) {
    long start = System.nanoTime();
    for (int i = 0, n = 0; i < pcm.length; i += FRAME, n++) {
      long due = start + n * 20_000_000L;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
      }
      client.sendBinary(SpokenFixtures.littleEndian(pcm, i, Math.min(pcm.length, i + FRAME)));
    }
  }

  @Test
  void spokenTurn_transcriptReplyTextAndReplyAudioArrive() {
    int port = start();
    try (WsClient client = voiceSession(port, "en-US")) {
      Thread streamer = Thread.ofVirtual().start(() -> stream(client, sister));
      List<JsonNode> before = new ArrayList<>();
      JsonNode transcript = finalTranscript(client, before);
      assertThat(before).extracting(m -> m.get("type").asText()).contains("speech_started", "speech_ended");
      String heard = transcript.get("text").asText().toLowerCase(Locale.ROOT);
      assertThat(heard).contains("sister");

      List<JsonNode> reply = new ArrayList<>();
      JsonNode metrics = client.next("voice_metrics", reply);
      assertThat(reply).extracting(m -> m.get("type").asText()).contains("reply_delta", "audio_started", "binary", "audio_ended");
      JsonNode done = reply.stream().filter(m -> m.get("type").asText().equals("reply_done")).findFirst().orElseThrow();
      assertThat(done.get("text").asText()).startsWith("You said: ").containsIgnoringCase("sister");
      // audio_ended follows the reply's last audio frame
      int ended = indexOf(reply, "audio_ended");
      assertThat(reply.subList(ended, reply.size())).extracting(m -> m.get("type").asText()).doesNotContain("binary");
      assertThat(client.audio().length).isGreaterThan(RATE / 2); // at least a quarter second of speech at 16 kHz
      assertThat(metrics.get("endToEndMs").isNumber()).as("metrics %s", metrics).isTrue();
      join(streamer);
    }
    // The operator summary charts the voice meters the pipeline registered.
    JsonNode summary = new Http(port).get("/api/v1/ops/summary").json();
    assertThat(summary.at("/latency/voiceEndToEnd/count").asDouble()).isGreaterThanOrEqualTo(1);
    assertThat(summary.at("/latency/speechToText/count").asDouble()).isGreaterThanOrEqualTo(1);
    assertThat(summary.get("voiceInterruptions").isNumber()).isTrue();
  }

  @Test
  void typedAndSpokenTurns_mixInOneSession() {
    int port = start();
    try (WsClient client = voiceSession(port, "en-US")) {
      client.send("{\"type\":\"user_text\",\"id\":\"t-1\",\"text\":\"hello by keyboard\"}");
      JsonNode typed = client.next("reply_done");
      assertThat(typed.get("text").asText()).isEqualTo("You said: hello by keyboard.");
      client.next("audio_ended"); // typed turns are spoken too, once audio has started

      Thread streamer = Thread.ofVirtual().start(() -> stream(client, sister));
      finalTranscript(client, null);
      JsonNode spoken = client.next("reply_done");
      assertThat(spoken.get("text").asText()).containsIgnoringCase("sister");
      join(streamer);

      client.send("{\"type\":\"user_text\",\"id\":\"t-3\",\"text\":\"and typing again\"}");
      JsonNode again = client.next("reply_done");
      assertThat(again.get("turnId").asText()).isEqualTo("t-3");
    }
  }

  @Test
  void bargeIn_overTheSocket_stopsTheAudioAndSaysWhatWasHeard() {
    int port = start();
    try (WsClient client = voiceSession(port, "en-US")) {
      client.send("{\"type\":\"user_text\",\"text\":\"tell me a long story\"}");
      client.next("audio_started");
      for (int i = 0; i < 10; i++) {
        client.next("binary"); // a good part of a second of the story is playing
      }
      stream(client, SpokenFixtures.english("wait, stop, I have a question for you", RATE, 0.0, 1.0));
      List<JsonNode> upTo = new ArrayList<>();
      JsonNode interrupted = client.next("interrupted", upTo);
      assertThat(interrupted.get("heardMs").asLong()).isPositive()
          // what was heard is at most what reached this client (the server keeps the rest until it is due)
          .isLessThanOrEqualTo(client.audio().length / 2 * 1000L / RATE);
      String heardText = interrupted.get("heardText").asText();
      assertThat(STORY.repeat(30)).startsWith(heardText.strip());
      assertThat(heardText.length()).isLessThan(STORY.length() * 30);
      // Nothing of that reply's audio after the interruption.
      List<JsonNode> after = new ArrayList<>();
      JsonNode ended = client.next("audio_ended", after);
      assertThat(ended.get("interrupted").asBoolean()).as("%s after %s, before %s", ended, interrupted, upTo).isTrue();
      assertThat(after).extracting(m -> m.get("type").asText()).doesNotContain("binary");
    }
  }

  @Test
  void badAudio_isAnsweredWithErrors_andTheSessionGoesOn() {
    int port = start();
    try (WsClient client = WsClient.connect(port, "userId=ali&lang=en-US", null)) {
      client.next("reply_done");
      client.sendBinary(new byte[640]);
      assertThat(client.next("error").get("code").asText()).isEqualTo("audio_not_started");
      client.send("{\"type\":\"audio_start\",\"inputRate\":44100}");
      JsonNode badRate = client.next("error");
      assertThat(badRate.get("code").asText()).isEqualTo("invalid_message");
      assertThat(badRate.get("message").asText()).contains("inputRate", "16000");
      client.send("{\"type\":\"audio_start\",\"inputRate\":16000,\"outputRate\":\"fast\"}");
      assertThat(client.next("error").get("message").asText()).contains("outputRate");
      client.send("{\"type\":\"audio_start\",\"inputRate\":8000,\"outputRate\":48000}");
      JsonNode ready = client.next("audio_ready");
      assertThat(ready.get("inputRate").asInt()).isEqualTo(8000);
      assertThat(ready.get("outputRate").asInt()).isEqualTo(48000);
      client.send("{\"type\":\"audio_start\"}");
      assertThat(client.next("error").get("message").asText()).contains("audio_stop");
      client.sendBinary(new byte[321]);
      JsonNode odd = client.next("error");
      assertThat(odd.get("code").asText()).isEqualTo("invalid_audio");
      assertThat(odd.get("message").asText()).contains("321");
      client.send("{\"type\":\"audio_stop\"}");
      client.sendBinary(new byte[320]);
      assertThat(client.next("error").get("code").asText()).isEqualTo("audio_not_started");
      client.send("{\"type\":\"user_text\",\"text\":\"still here\"}");
      assertThat(client.next("reply_done").get("text").asText()).isEqualTo("You said: still here.");
    }
  }

  @Test
  void aLanguageNoEngineHears_isRefused_andTheSessionStaysText() {
    int port = start(VoiceConfig.builder().build(), SessionApi.Settings.defaults()); // local: English speech-to-text only
    try (WsClient client = WsClient.connect(port, "userId=ali&lang=ur-PK", null)) {
      client.next("reply_done");
      client.send("{\"type\":\"audio_start\"}");
      JsonNode refused = client.next("error");
      assertThat(refused.get("code").asText()).isEqualTo("voice_unavailable");
      assertThat(refused.get("message").asText()).contains("ur-PK");
      client.send("{\"type\":\"user_text\",\"text\":\"salaam\"}");
      assertThat(client.next("reply_done").get("text").asText()).isEqualTo("You said: salaam.");
    }
  }

  @Test
  void audioFarFasterThanRealTime_isClosed4429() {
    int port = start(VoiceConfig.defaults(), SessionApi.Settings.defaults().withAudioBurst(Duration.ofMillis(500)));
    try (WsClient client = voiceSession(port, "en-US")) {
      byte[] frame = new byte[2 * FRAME];
      for (int i = 0; i < 100 && !client.isClosed(); i++) { // 2 s of audio as fast as the socket takes it
        client.sendBinary(frame);
      }
      JsonNode tooFast = client.next("error");
      assertThat(tooFast.get("code").asText()).isEqualTo("audio_too_fast");
      assertThat(client.awaitClose().code()).isEqualTo(SessionSocket.AUDIO_TOO_FAST);
    }
  }

  @Test
  void voiceOff_audioIsRefused() {
    int port = start(null, SessionApi.Settings.defaults());
    try (WsClient client = WsClient.connect(port, "userId=ali&lang=en-US", null)) {
      client.next("reply_done");
      client.send("{\"type\":\"audio_start\"}");
      assertThat(client.next("error").get("code").asText()).isEqualTo("voice_unavailable");
      client.sendBinary(new byte[640]);
      assertThat(client.next("error").get("code").asText()).isEqualTo("voice_unavailable");
    }
  }

  private static JsonNode finalTranscript(WsClient client, List<JsonNode> skipped) {
    while (true) {
      JsonNode t = client.next("transcript", skipped);
      if (t.get("isFinal").asBoolean()) {
        return t;
      }
    }
  }

  private static int indexOf(List<JsonNode> messages, String type) {
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i).get("type").asText().equals(type)) {
        return i;
      }
    }
    return -1;
  }

  private static void join(Thread t) {
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
