package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.server.limit.Rate;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one client may cost through the session WebSocket, over a real server with the scripted
 * LLM: the send queue bounded in bytes, the ping echo, message and byte rates per session,
 * sessions per user, and the per-user LLM budget.
 */
class SessionLimitsTest {
  private static final String LONG_WORDS = "say three very long words";
  private static ScriptedLlmServer llm;

  @TempDir
  Path dir;
  private YaadServer server;

  @BeforeAll
  static void startLlm() {
    llm = ScriptedLlmServer.start()
        // Three words of 400 KB: three deltas (one per word) and a reply_done, each under 1 MiB, 2.4 MB in all.
        .rule(c -> c.purpose() == Purpose.CONVERSATION && c.lastUserMessage().equals(LONG_WORDS),
            c -> Answer.text(("w".repeat(400_000) + " ").repeat(3)))
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("Hello " + c.lastUserMessage()));
  }

  @AfterAll
  static void stopLlm() {
    llm.close();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private int start(SessionApi.Settings sessions) {
    return start(sessions, HttpLimits.defaults());
  }

  private int start(SessionApi.Settings sessions, HttpLimits limits) {
    YaadServer.Config config = YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
        .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null)).withLimits(limits);
    server = new YaadServer(config, new YaadServer.AgentTuning(AgentConfig.defaults(), LearningConfig.defaults(), sessions)).start();
    return server.port();
  }

  private static WsClient greeted(int port, String user) {
    WsClient client = WsClient.connect(port, "userId=" + user, null);
    client.next("reply_done");
    return client;
  }

  @Test
  void aPingEchoesAtMost256Bytes() {
    int port = start(SessionApi.Settings.defaults());
    try (WsClient client = greeted(port, "ali")) {
      client.send("{\"type\":\"ping\",\"t\":\"" + "x".repeat(254) + "\"}"); // 256 bytes as JSON, quotes included
      assertThat(client.expect("pong").get("t").asText()).hasSize(254);
      client.send("{\"type\":\"ping\",\"t\":\"" + "x".repeat(255) + "\"}");
      JsonNode refused = client.expect("error");
      assertThat(refused.get("code").asText()).isEqualTo("too_large");
      assertThat(refused.get("message").asText()).contains("257", "256");
      client.send("{\"type\":\"ping\",\"t\":{\"sent\":1}}");
      assertThat(client.expect("pong").get("t").get("sent").asInt()).isEqualTo(1);
    }
  }

  @Test
  void deeplyNestedJson_isAnInvalidMessage_andTheSessionGoesOn() {
    int port = start(SessionApi.Settings.defaults());
    try (WsClient client = greeted(port, "ali")) {
      client.send("{\"type\":\"ping\",\"t\":" + "[".repeat(5000) + "]".repeat(5000) + "}");
      assertThat(client.expect("error").get("code").asText()).isEqualTo("invalid_message");
      client.send("{\"type\":\"ping\",\"t\":1}");
      assertThat(client.expect("pong").get("t").asInt()).isEqualTo(1);
    }
  }

  @Test
  void aClientThatStopsReading_isClosed1013_byTheBytesWaiting_notTheirCount() throws Exception {
    // A handful of large messages (far fewer than the old bound of 1,000 messages) are more than the 1 MiB that may wait.
    int port = start(SessionApi.Settings.defaults().withRates(Rate.OFF, Rate.OFF, Rate.OFF));
    try (Socket raw = new Socket()) {
      raw.setReceiveBufferSize(4096); // before connecting: a small window, so the server's writes stall soon
      raw.connect(new InetSocketAddress("127.0.0.1", port));
      raw.setSoTimeout(20_000);
      InputStream in = RawWebSocket.handshake(raw, "userId=ali", List.of());
      RawWebSocket.writeText(raw.getOutputStream(), "{\"type\":\"user_text\",\"text\":\"" + LONG_WORDS + "\"}");
      assertThat(RawWebSocket.readUntilClose(in)).isEqualTo(1013);
    }
  }

  @Test
  void messagesOverTheRate_areDroppedWithRateLimited_andAClientThatKeepsOn_isClosed1008() {
    int port = start(SessionApi.Settings.defaults().withRates(Rate.parse("4/h"), Rate.OFF, Rate.OFF));
    try (WsClient client = greeted(port, "ali")) {
      for (int i = 0; i < 4; i++) {
        client.send("{\"type\":\"ping\",\"t\":" + i + "}");
        assertThat(client.expect("pong").get("t").asInt()).isEqualTo(i);
      }
      int callsBefore = llm.count(Purpose.CONVERSATION);
      client.send("{\"type\":\"user_text\",\"text\":\"one more\"}");
      JsonNode limited = client.expect("error");
      assertThat(limited.get("code").asText()).isEqualTo("rate_limited");
      assertThat(limited.get("message").asText()).contains("4/h", "dropped");
      for (int i = 1; i < SessionApi.Settings.DEFAULT_MAX_INVALID_IN_A_ROW; i++) {
        client.send("{\"type\":\"user_text\",\"text\":\"and more\"}");
      }
      WsClient.Closed closed = client.awaitClose();
      assertThat(closed.code()).isEqualTo(1008);
      assertThat(closed.reason()).contains("rate limit");
      assertThat(llm.count(Purpose.CONVERSATION)).as("no dropped turn reached the model").isEqualTo(callsBefore);
    }
  }

  @Test
  void binaryFrames_spendBytesFromTheSessionsByteRate() {
    int port = start(SessionApi.Settings.defaults().withRates(Rate.OFF, Rate.parse("100000/h"), Rate.OFF));
    try (WsClient client = greeted(port, "ali")) {
      for (int i = 0; i < 3; i++) {
        client.sendBinary(new byte[30_000]); // 90,000 bytes in all: within the rate (and no voice on this server)
        assertThat(client.expect("error").get("code").asText()).isEqualTo("voice_unavailable");
      }
      client.sendBinary(new byte[30_000]);
      JsonNode limited = client.expect("error");
      assertThat(limited.get("code").asText()).isEqualTo("rate_limited");
      assertThat(limited.get("message").asText()).contains("bytes");
    }
  }

  @Test
  void sessionsPerUser_beyondTheCap_close1008_andOtherUsersAreNotAffected() {
    int port = start(SessionApi.Settings.defaults().withLimits(100, 2, SessionApi.Settings.DEFAULT_MAX_QUEUED_BYTES));
    try (WsClient first = greeted(port, "ali"); WsClient second = greeted(port, "ali");
        WsClient third = WsClient.connect(port, "userId=ali", null); WsClient bob = greeted(port, "bob")) {
      WsClient.Closed closed = third.awaitClose();
      assertThat(closed.code()).isEqualTo(1008);
      assertThat(closed.reason()).contains("2 sessions open");
      first.closeNormally();
      first.awaitClose();
      awaitAdmitted(port, "ali");
      bob.send("{\"type\":\"ping\"}");
      bob.expect("pong");
    }
  }

  /** A session of {@code user} is let in again once one of theirs has closed (the server sees the close a moment later). */
  private static void awaitAdmitted(int port, String user) {
    long deadline = System.nanoTime() + WsClient.WAIT.toNanos();
    while (true) {
      try (WsClient client = WsClient.connect(port, "userId=" + user, null)) {
        if (client.awaitMessageOrClose()) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no session for " + user + " was admitted after one of theirs closed");
      }
    }
  }

  @Test
  void theLlmBudget_answersTurnsBeyondItWithAnError_andRefusesANewGreeting() {
    // Three answers an hour: the greeting and two replies.
    int port = start(SessionApi.Settings.defaults().withRates(Rate.OFF, Rate.OFF, Rate.parse("3/h")));
    try (WsClient ali = greeted(port, "ali")) {
      for (String text : new String[] {"first", "second"}) {
        ali.send("{\"type\":\"user_text\",\"text\":\"" + text + "\"}");
        assertThat(ali.next("reply_done").get("text").asText()).isEqualTo("Hello " + text);
      }
      int callsBefore = llm.count(Purpose.CONVERSATION);
      ali.send("{\"type\":\"user_text\",\"text\":\"third\"}");
      JsonNode exhausted = ali.expect("error");
      assertThat(exhausted.get("code").asText()).isEqualTo("llm_budget_exhausted");
      assertThat(exhausted.get("message").asText()).contains("3/h", "try again in");
      ali.send("{\"type\":\"ping\"}");
      ali.expect("pong"); // the session goes on; only the model is out of reach
      assertThat(llm.count(Purpose.CONVERSATION)).isEqualTo(callsBefore);

      try (WsClient again = WsClient.connect(port, "userId=ali", null)) {
        List<JsonNode> messages = new ArrayList<>();
        WsClient.Closed closed = null;
        while (closed == null) {
          JsonNode m = again.next();
          messages.add(m);
          if (m.path("type").asText().equals("error")) {
            closed = again.awaitClose();
          }
        }
        assertThat(messages).anyMatch(m -> m.path("code").asText().equals("llm_budget_exhausted"));
        assertThat(messages).noneMatch(m -> m.path("type").asText().equals("greeting_delta"));
        assertThat(closed.code()).isEqualTo(1008);
      }
    }
    try (WsClient bob = greeted(port, "bob")) { // another user has a budget of their own
      bob.send("{\"type\":\"user_text\",\"text\":\"hi\"}");
      assertThat(bob.next("reply_done").get("outcome").asText()).isEqualTo("completed");
    }
  }

  @Test
  void connectionsPerAddress_countAnUpgradedSessionOnce_untilItCloses() throws Exception {
    int port = start(SessionApi.Settings.defaults(), HttpLimits.defaults().withMaxConnectionsPerIp(3));
    try (WsClient ali = greeted(port, "ali"); WsClient bob = greeted(port, "bob")) {
      // Two sessions are two connections (an upgrade is not a second one): of two more, one is let in and one is not.
      // Which one is not up to the client: the server opens connections concurrently.
      List<String> answers = new ArrayList<>();
      try (Socket third = new Socket("127.0.0.1", port); Socket fourth = new Socket("127.0.0.1", port)) {
        for (Socket socket : List.of(third, fourth)) {
          socket.setSoTimeout(10_000);
          answers.add(HttpLimitsTest.health(socket));
        }
      }
      assertThat(answers).containsExactlyInAnyOrder("HTTP/1.1 200 OK", "closed unanswered");
      ali.closeNormally();
      ali.awaitClose();
      awaitAdmitted(port, "zara"); // the closed session's connection no longer counts
    }
  }

  @Test
  void settings_refuseAQueueSmallerThanAFrame_andAByteRateSmallerThanAFrame() {
    SessionApi.Settings defaults = SessionApi.Settings.defaults();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> defaults.withLimits(10, 8, 1000))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxQueuedBytes (1000)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> defaults.withRates(Rate.OFF, Rate.parse("1000/s"), Rate.OFF))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("byteRate (1000/s)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> defaults.withLimits(10, 0, 1 << 20))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxSessionsPerUser");
  }
}
