package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.testing.ScriptedLlmServer;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.voice.VoiceConfig;
import dev.yaad.webrtc.WebRtcConfig;
import dev.yaad.webrtc.WebRtcException;
import dev.yaad.webrtc.WebRtcTransport;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code webrtc_*} messages of the session socket against a real server and a real WebRTC
 * peer (a {@link WebRtcTransport} dialling): what is refused, and why.
 */
class WebRtcSignallingTest {
  private static ScriptedLlmServer llm;
  private static WebRtcTransport caller;

  @TempDir
  Path dir;
  private YaadServer server;

  @BeforeAll
  static void start() {
    llm = ScriptedLlmServer.start().rule(c -> true, c -> Answer.text("Hello there."));
    caller = WebRtcTransport.start(WebRtcConfig.defaults());
  }

  @AfterAll
  static void stopAll() {
    caller.close();
    llm.close();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private void startServer(WebRtcConfig webrtc, boolean voice) {
    YaadServer.Config config = YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
        .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null)).withVoice(voice ? VoiceConfig.defaults() : null);
    server = new YaadServer(config, new YaadServer.AgentTuning(AgentConfig.defaults(), LearningConfig.defaults(),
        SessionApi.Settings.defaults(), webrtc)).start();
  }

  private WsClient connect() {
    WsClient client = WsClient.connect(server.port(), "userId=ali&lang=en-US", null);
    client.next("reply_done");
    return client;
  }

  private static String offer(String sdp) {
    return JsonNodeFactory.instance.objectNode().put("type", "webrtc_offer").put("sdp", sdp).toString();
  }

  /** Dials the server through {@code client}'s session: the offer goes out, the answer (or an error) comes back. */
  private static JsonNode dial(WsClient client) {
    JsonNode[] reply = new JsonNode[1];
    try {
      caller.dial(offer -> {
        client.send(offer(offer));
        reply[0] = client.next();
        while (!reply[0].get("type").asText().startsWith("webrtc_") && !reply[0].get("type").asText().equals("error")) {
          reply[0] = client.next();
        }
        if (!reply[0].get("type").asText().equals("webrtc_answer")) {
          throw new IllegalStateException("no answer: " + reply[0]);
        }
        return reply[0].get("sdp").asText();
      }).close();
    } catch (WebRtcException | IllegalStateException e) {
      // the reply says why
    }
    return reply[0];
  }

  @Test
  void offer_withWebRtcOff_isAnsweredWebRtcUnavailable() {
    startServer(null, true);
    JsonNode config = new Http(server.port()).get("/api/v1/config").json();
    assertThat(config.get("voiceAvailable").asBoolean()).isTrue();
    assertThat(config.has("webrtc")).isFalse();
    try (WsClient client = connect()) {
      JsonNode error = dial(client);
      assertThat(error.get("type").asText()).isEqualTo("error");
      assertThat(error.get("code").asText()).isEqualTo("webrtc_unavailable");
      client.send("{\"type\":\"user_text\",\"text\":\"still here?\"}");
      assertThat(client.next("reply_done").get("outcome").asText()).isEqualTo("completed");
    }
  }

  @Test
  void badOffers_areInvalidMessages_andTheSessionGoesOn() {
    startServer(WebRtcConfig.defaults(), true);
    JsonNode config = new Http(server.port()).get("/api/v1/config").json();
    assertThat(config.get("webrtc").get("iceServers").isArray()).isTrue();
    try (WsClient client = connect()) {
      client.send("{\"type\":\"webrtc_offer\"}");
      assertThat(client.next("error").get("message").asText()).contains("'sdp'");
      client.send(offer("hello"));
      JsonNode notSdp = client.next("error");
      assertThat(notSdp.get("code").asText()).isEqualTo("invalid_message");
      assertThat(notSdp.get("message").asText()).contains("not an SDP");
      client.send(offer("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"));
      JsonNode noAudio = client.next("error");
      assertThat(noAudio.get("code").asText()).isEqualTo("webrtc_failed");
      assertThat(noAudio.get("message").asText()).contains("no audio");
      client.send(offer("x".repeat(WebRtcSignalling.MAX_SDP_CHARS + 1)));
      assertThat(client.next("error").get("code").asText()).isEqualTo("too_large");
      client.send("{\"type\":\"webrtc_candidate\",\"candidate\":\"candidate:1 1 udp 1 192.0.2.1 9 typ host\",\"sdpMid\":\"0\","
          + "\"sdpMLineIndex\":0}");
      assertThat(client.next("error").get("message").asText()).contains("before webrtc_offer");
      client.send("{\"type\":\"webrtc_candidate\",\"candidate\":7}");
      assertThat(client.next("error").get("code").asText()).isEqualTo("invalid_message");
      client.send("{\"type\":\"webrtc_hangup\"}"); // no call: nothing to do, nothing said
      client.send("{\"type\":\"user_text\",\"text\":\"still here?\"}");
      assertThat(client.next("reply_done").get("outcome").asText()).isEqualTo("completed");
    }
  }

  @Test
  void offer_withoutSpeechEngines_isVoiceUnavailable() {
    startServer(WebRtcConfig.defaults(), false);
    assertThat(new Http(server.port()).get("/api/v1/config").json().has("webrtc")).isFalse();
    try (WsClient client = connect()) {
      JsonNode error = dial(client);
      assertThat(error.get("code").asText()).isEqualTo("voice_unavailable");
    }
    assertThat(server.meterRegistry().find("yaad.webrtc.calls").gauge()).as("no WebRTC engine without voice").isNull();
  }
}
