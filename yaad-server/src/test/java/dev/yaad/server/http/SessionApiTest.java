package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.agent.llm.Prompts;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import io.micrometer.core.instrument.Gauge;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The session WebSocket over a real socket: a {@link YaadServer} with authentication, H2 and
 * the scripted LLM server (real HTTP on loopback) as its LLM, and the JDK's WebSocket client.
 */
class SessionApiTest {
  private static final String API_KEY = "session-test-admin-key-0123456789";
  private static final String SECRET = "session-test-secret-0123456789-0123456789";
  private static final String JOB = "I start my new job at the bank on Monday";
  private static final String STORY = "tell me a long story";
  private static final String FLOOD = "tell me everything at once";
  private static final String NURSE = "Please keep in mind that I work as a nurse at the city hospital";
  private static final String NURSE_FACT = "Works as a nurse at the city hospital";
  private static final String FORGET_NURSE = "Please forget that I work as a nurse";

  private static ScriptedLlmServer llm;

  @TempDir
  Path dir;
  private YaadServer server;
  private Http admin;

  @BeforeAll
  static void startLlm() {
    llm = ScriptedLlmServer.start()
        // A reply that looks in memory first, then echoes the user: the tool, then the deltas.
        .rule(c -> c.purpose() == Purpose.CONVERSATION && !c.hasToolResults() && c.lastUserMessage().contains("job"),
            c -> Answer.toolCall("searchMemories", "{\"query\":\"job\"}"))
        // 8 MB in 500 words of 16 KB: far more than the 1 MiB that may wait, in few enough deltas that a
        // loaded machine makes them quickly (160,000 short words took over 10 s there).
        .rule(c -> c.purpose() == Purpose.CONVERSATION && c.lastUserMessage().contains(FLOOD),
            c -> Answer.text(("Onceuponatime".repeat(1_250) + " ").repeat(500)))
        .rule(c -> c.purpose() == Purpose.CONVERSATION && c.lastUserMessage().contains(STORY),
            c -> Answer.text("Once upon a time ".repeat(200)))
        // The model saves (or forgets) during the turn; background extraction later finds the same fact.
        .rule(c -> c.purpose() == Purpose.CONVERSATION && !c.hasToolResults() && c.lastUserMessage().equals(NURSE),
            c -> Answer.toolCall("saveMemory", "{\"category\":\"FACT\",\"content\":\"" + NURSE_FACT + "\"}"))
        .rule(c -> c.purpose() == Purpose.CONVERSATION && !c.hasToolResults() && c.lastUserMessage().equals(FORGET_NURSE),
            c -> Answer.toolCall("forgetMemory", "{\"description\":\"works as a nurse\"}"))
        .rule(c -> c.purpose() == Purpose.EXTRACT && c.lastUserMessage().contains(NURSE),
            c -> Answer.text("{\"memories\":[{\"category\":\"FACT\",\"content\":\"" + NURSE_FACT + "\",\"operation\":\"ADD\"}]}"))
        .rule(c -> c.purpose() == Purpose.EXTRACT && c.lastUserMessage().contains(FORGET_NURSE),
            c -> Answer.text("{\"memories\":[{\"category\":\"FACT\",\"content\":\"" + NURSE_FACT + "\",\"operation\":\"DELETE\"}]}"))
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("I will remember that: " + c.lastUserMessage()));
  }

  @AfterAll
  static void stopLlm() {
    llm.close();
  }

  @AfterEach
  void stop() {
    llm.latency(Duration.ZERO, Duration.ZERO);
    if (server != null) {
      server.close();
    }
  }

  private static YaadServer.AgentTuning tuning() {
    return new YaadServer.AgentTuning(AgentConfig.defaults(),
        LearningConfig.defaults().withBatch(1, Duration.ofSeconds(20)).withProfile(Duration.ofMillis(50), Duration.ZERO, 0.85),
        SessionApi.Settings.defaults().withHeartbeat(Duration.ofMillis(200), Duration.ofMillis(1500)));
  }

  private void start(YaadServer.AgentTuning tuning, boolean withLlm) {
    YaadServer.Config config = YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
        .withAuth(AuthConfig.of(API_KEY, SECRET))
        .withLlm(withLlm ? new LlmSettings(llm.baseUrl(), "scripted", null) : LlmSettings.NONE);
    server = new YaadServer(config, tuning).start();
    admin = new Http(server.port()).as(API_KEY);
  }

  private void start() {
    start(tuning(), true);
  }

  private String token(String userId) {
    Http.Response response = admin.post("/api/v1/tokens", "{\"userId\":\"" + userId + "\",\"ttlSeconds\":600}");
    assertThat(response.status()).isEqualTo(201);
    return response.json().get("token").asText();
  }

  private WsClient connect(String userId) {
    return WsClient.connect(server.port(), "lang=en-US", token(userId));
  }

  /** Connects and reads up to the end of the greeting. */
  private WsClient connectGreeted(String userId) {
    WsClient client = connect(userId);
    client.next("reply_done");
    return client;
  }

  /** Stores a memory through the REST API; returns its id. */
  private String remember(String userId, String category, String content) {
    Http.Response response = admin.post("/api/v1/users/" + userId + "/memories",
        "{\"category\":\"" + category + "\",\"content\":\"" + content + "\"}");
    assertThat(response.status()).isEqualTo(201);
    return response.json().get("id").asText();
  }

  /** Turns whose background extraction has finished (stored, or found nothing new). */
  private double extractionsDone() {
    var counter = server.meterRegistry().find("yaad.agent.learning").tag("event", "extraction.ok").counter();
    return counter == null ? 0 : counter.count();
  }

  /**
   * Waits until background extraction has finished {@code turns} turns, then returns every
   * message {@code client} has been sent so far (a ping's pong marks the end: one writer, in order).
   */
  private List<JsonNode> afterExtraction(int turns, WsClient client) throws InterruptedException {
    await(() -> extractionsDone() >= turns, turns + " extractions");
    client.send("{\"type\":\"ping\",\"t\":\"sync\"}");
    List<JsonNode> before = new ArrayList<>();
    client.next("pong", before);
    return before;
  }

  /** The {@code learned} messages that report a memory (not only a profile). */
  private static List<JsonNode> memoryChanges(List<JsonNode> messages) {
    return messages.stream().filter(m -> m.path("type").asText().equals("learned"))
        .filter(m -> !m.get("added").isEmpty() || !m.get("updated").isEmpty() || !m.get("deleted").isEmpty()).toList();
  }

  private double activeSessions() {
    Gauge gauge = server.meterRegistry().find("yaad.agent.sessions.active").gauge();
    return gauge == null ? -1 : gauge.value();
  }

  /** Session close lines logged so far (the appender appends under its own lock). */
  private static long closeLines(ListAppender<ILoggingEvent> logs) {
    synchronized (logs) {
      return logs.list.stream().filter(e -> e.getFormattedMessage().contains("event=close")).count();
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WsClient.WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WsClient.WAIT + ": " + what);
      }
      Thread.sleep(20);
    }
  }

  // ---------------------------------------------------------------- the conversation

  @Test
  void connect_statesThenGreetingStreamsAndEndsOnce() {
    start();
    remember("ali", "PLAN", "Visiting his sister in Lahore");
    try (WsClient client = connect("ali")) {
      JsonNode connecting = client.expect("state");
      assertThat(connecting.get("state").asText()).isEqualTo("connecting");
      assertThat(connecting.get("userId").asText()).isEqualTo("ali");
      String sessionId = connecting.get("sessionId").asText();
      JsonNode active = client.expect("state");
      assertThat(active.get("state").asText()).isEqualTo("active");
      assertThat(active.get("sessionId").asText()).isEqualTo(sessionId);

      List<JsonNode> deltas = new ArrayList<>();
      JsonNode done = client.next("reply_done", deltas);
      assertThat(deltas).isNotEmpty().allSatisfy(d -> {
        assertThat(d.get("type").asText()).isEqualTo("greeting_delta");
        assertThat(d.get("speechId").asText()).isEqualTo(done.get("speechId").asText());
      });
      StringBuilder streamed = new StringBuilder();
      deltas.forEach(d -> streamed.append(d.get("text").asText()));
      assertThat(done.get("kind").asText()).isEqualTo("greeting");
      assertThat(done.get("outcome").asText()).isEqualTo("completed");
      assertThat(done.get("turnId").isNull()).isTrue();
      assertThat(done.get("error").isNull()).isTrue();
      assertThat(done.get("text").asText()).isEqualTo(streamed.toString()).contains("Lahore");
      assertThat(done.get("firstDeltaMs").isNumber()).isTrue();
      assertThat(done.get("durationMs").asLong()).isGreaterThanOrEqualTo(done.get("firstDeltaMs").asLong());
      assertThat(done.get("learning").isNull()).as("a greeting is no turn to learn from").isTrue();
    }
  }

  @Test
  void turn_withAToolCall_streamsToolThenDeltasThenDone_andTheToolSeesOnlyItsUser() {
    start();
    remember("ali", "GOAL", "Wants a job in a bank");
    remember("bob", "GOAL", "Wants a job as a pilot");
    try (WsClient client = connectGreeted("ali")) {
      client.send("{\"type\":\"user_text\",\"id\":\"t-1\",\"text\":\"" + JOB + "\",\"lang\":\"en-US\"}");
      JsonNode tool = client.expect("tool");
      assertThat(tool.get("name").asText()).isEqualTo("searchMemories");
      assertThat(tool.get("ok").asBoolean()).isTrue();
      assertThat(tool.get("ms").isNumber()).isTrue();
      String speechId = tool.get("speechId").asText();

      List<JsonNode> deltas = new ArrayList<>();
      JsonNode done = client.next("reply_done", deltas);
      assertThat(deltas).isNotEmpty().allSatisfy(d -> {
        assertThat(d.get("type").asText()).isEqualTo("reply_delta");
        assertThat(d.get("speechId").asText()).isEqualTo(speechId);
        assertThat(d.get("turnId").asText()).isEqualTo("t-1");
      });
      assertThat(done.get("speechId").asText()).isEqualTo(speechId);
      assertThat(done.get("kind").asText()).isEqualTo("reply");
      assertThat(done.get("turnId").asText()).isEqualTo("t-1");
      assertThat(done.get("learning").asText()).isEqualTo("queued");
      assertThat(done.get("outcome").asText()).isEqualTo("completed");
      assertThat(done.get("text").asText()).isEqualTo("I will remember that: " + JOB);
    }
    List<String> toolResults = llm.calls(Purpose.CONVERSATION).stream().flatMap(c -> c.toolResults().stream()).toList();
    assertThat(toolResults).isNotEmpty().anyMatch(r -> r.contains("bank")).noneMatch(r -> r.contains("pilot"));
  }

  @Test
  void learned_reachesEveryOpenSessionOfThatUser_andNoOtherUser() {
    start();
    try (WsClient ali = connectGreeted("ali"); WsClient aliOnThePhone = connectGreeted("ali");
        WsClient bob = connectGreeted("bob")) {
      ali.send("{\"type\":\"user_text\",\"text\":\"" + JOB + "\"}");
      JsonNode learned = ali.next("learned");
      assertThat(learned.get("added")).hasSize(1);
      JsonNode memory = learned.get("added").get(0);
      assertThat(memory.get("userId").asText()).isEqualTo("ali");
      assertThat(memory.get("content").asText()).contains("new job at the bank");
      assertThat(memory.get("id").asText()).hasSize(36);
      assertThat(learned.get("updated")).isEmpty();
      assertThat(learned.get("deleted")).isEmpty();
      assertThat(learned.get("profile").isNull()).isTrue();

      assertThat(aliOnThePhone.next("learned").get("added").get(0).get("id")).isEqualTo(memory.get("id"));
      // The profile refresh that the new memory asked for comes next, to both of ali's sessions.
      assertThat(ali.next("learned").get("profile").get("content").asText()).contains("new job");

      bob.send("{\"type\":\"ping\",\"t\":1}");
      assertThat(bob.expect("pong").get("t").asInt()).isEqualTo(1);
      assertThat(bob.drain()).noneMatch(m -> m.path("type").asText().equals("learned"));
    }
  }

  @Test
  void learned_afterTheSessionEnds_reachesTheUsersOtherSession() {
    start(new YaadServer.AgentTuning(AgentConfig.defaults(),
        LearningConfig.defaults().withBatch(4, Duration.ofSeconds(20)), SessionApi.Settings.defaults()), true);
    try (WsClient phone = connectGreeted("ali"); WsClient page = connectGreeted("ali")) {
      phone.send("{\"type\":\"user_text\",\"text\":\"" + JOB + "\"}");
      phone.next("reply_done");
      phone.send("{\"type\":\"end\"}");
      assertThat(phone.awaitClose().code()).isEqualTo(1000);
      // The batch was not full: the end of the session is what sends it to extraction.
      JsonNode learned = page.next("learned");
      assertThat(learned.get("added").get(0).get("content").asText()).contains("new job");
    }
  }

  @Test
  void aToolThatSavesAMemory_sendsLearnedAtOnce_toEverySessionOfThatUser_andExtractionDoesNotRepeatIt() throws Exception {
    start();
    try (WsClient ali = connectGreeted("ali"); WsClient aliOnThePhone = connectGreeted("ali");
        WsClient bob = connectGreeted("bob")) {
      ali.send("{\"type\":\"user_text\",\"text\":\"" + NURSE + "\"}");
      JsonNode tool = ali.expect("tool");
      assertThat(tool.get("name").asText()).isEqualTo("saveMemory");
      // Right after the tool, before the reply's words: the page's memory panel updates mid-conversation.
      JsonNode learned = ali.expect("learned");
      assertThat(learned.get("added")).hasSize(1);
      JsonNode memory = learned.get("added").get(0);
      assertThat(memory.get("userId").asText()).isEqualTo("ali");
      assertThat(memory.get("category").asText()).isEqualTo("FACT");
      assertThat(memory.get("content").asText()).isEqualTo(NURSE_FACT);
      assertThat(learned.get("updated")).isEmpty();
      assertThat(learned.get("deleted")).isEmpty();
      assertThat(learned.get("profile").isNull()).isTrue();
      assertThat(learned.fieldNames()).toIterable().containsExactly("type", "added", "updated", "deleted", "profile");
      assertThat(ali.next("reply_done").get("outcome").asText()).isEqualTo("completed");
      assertThat(admin.get("/api/v1/users/ali/memories").body()).contains(memory.get("id").asText());

      assertThat(aliOnThePhone.next("learned")).isEqualTo(learned);

      // Extraction of the turn finds the same fact: stored already (UNCHANGED), so no second message.
      List<JsonNode> later = afterExtraction(1, ali);
      assertThat(llm.calls(Purpose.EXTRACT)).anyMatch(c -> c.lastUserMessage().contains(NURSE));
      assertThat(memoryChanges(later)).isEmpty();
      assertThat(memoryChanges(afterExtraction(1, aliOnThePhone))).isEmpty();
      assertThat(afterExtraction(1, bob)).noneMatch(m -> m.path("type").asText().equals("learned"));
    }
  }

  @Test
  void aToolThatForgetsAMemory_sendsLearnedWithItsId_toEverySessionOfThatUser_only() throws Exception {
    start();
    String id = remember("ali", "FACT", NURSE_FACT);
    try (WsClient ali = connectGreeted("ali"); WsClient aliOnThePhone = connectGreeted("ali");
        WsClient bob = connectGreeted("bob")) {
      ali.send("{\"type\":\"user_text\",\"text\":\"" + FORGET_NURSE + "\"}");
      assertThat(ali.expect("tool").get("name").asText()).isEqualTo("forgetMemory");
      JsonNode learned = ali.expect("learned");
      assertThat(learned.get("deleted")).hasSize(1);
      assertThat(learned.get("deleted").get(0).asText()).isEqualTo(id);
      assertThat(learned.get("added")).isEmpty();
      assertThat(learned.get("updated")).isEmpty();
      assertThat(learned.get("profile").isNull()).isTrue();
      ali.next("reply_done");

      assertThat(aliOnThePhone.next("learned")).isEqualTo(learned);

      // Extraction asks to delete the same fact: it is gone already, so nothing more is reported.
      assertThat(memoryChanges(afterExtraction(1, ali))).isEmpty();
      assertThat(memoryChanges(afterExtraction(1, aliOnThePhone))).isEmpty();
      assertThat(afterExtraction(1, bob)).noneMatch(m -> m.path("type").asText().equals("learned"));
    }
  }

  @Test
  void aToolSaveOfAFactAlreadyRemembered_sendsNoLearned() throws Exception {
    start();
    remember("ali", "FACT", NURSE_FACT);
    try (WsClient ali = connectGreeted("ali"); WsClient aliOnThePhone = connectGreeted("ali")) {
      ali.send("{\"type\":\"user_text\",\"text\":\"" + NURSE + "\"}");
      assertThat(ali.expect("tool").get("name").asText()).isEqualTo("saveMemory");
      List<JsonNode> reply = new ArrayList<>();
      ali.next("reply_done", reply);
      assertThat(reply).noneMatch(m -> m.path("type").asText().equals("learned"));
      assertThat(llm.calls(Purpose.CONVERSATION).getLast().toolResults()).anyMatch(r -> r.startsWith("already remembered"));
      // Nothing changed, by the tool or by extraction: no memory message, and no profile refresh either.
      assertThat(afterExtraction(1, ali)).noneMatch(m -> m.path("type").asText().equals("learned"));
      assertThat(afterExtraction(1, aliOnThePhone)).noneMatch(m -> m.path("type").asText().equals("learned"));
    }
  }

  @Test
  void interrupt_endsTheReplyInterrupted_andBargeInStartsANewOne() {
    start();
    llm.latency(Duration.ZERO, Duration.ofMillis(20));
    try (WsClient client = connectGreeted("ali")) {
      client.send("{\"type\":\"user_text\",\"id\":\"long\",\"text\":\"" + STORY + "\"}");
      client.next("reply_delta");
      client.send("{\"type\":\"interrupt\"}");
      JsonNode done = client.next("reply_done");
      assertThat(done.get("outcome").asText()).isEqualTo("interrupted");
      assertThat(done.get("turnId").asText()).isEqualTo("long");

      client.send("{\"type\":\"user_text\",\"id\":\"again\",\"text\":\"" + STORY + "\"}");
      client.next("reply_delta");
      client.send("{\"type\":\"user_text\",\"id\":\"short\",\"text\":\"hello\"}");
      JsonNode first = client.next("reply_done");
      assertThat(first.get("turnId").asText()).isEqualTo("again");
      assertThat(first.get("outcome").asText()).isEqualTo("interrupted");
      JsonNode second = client.next("reply_done");
      assertThat(second.get("turnId").asText()).isEqualTo("short");
      assertThat(second.get("outcome").asText()).isEqualTo("completed");
    }
  }

  @Test
  void aFailingLlm_endsTheReplyFailed_withAnError_andTheSessionGoesOn() {
    start();
    try (WsClient client = connectGreeted("ali")) {
      llm.fail(Purpose.CONVERSATION, 2, 500); // the first attempt and its one retry
      client.send("{\"type\":\"user_text\",\"id\":\"t-1\",\"text\":\"hello\"}");
      List<JsonNode> deltas = new ArrayList<>();
      JsonNode done = client.next("reply_done", deltas);
      assertThat(done.get("outcome").asText()).isEqualTo("failed");
      // A voice client is not left in silence: the companion says so, as an ordinary reply text.
      assertThat(deltas).extracting(d -> d.get("text").asText()).containsExactly(Prompts.APOLOGY_EN);
      assertThat(done.get("text").asText()).isEqualTo(Prompts.APOLOGY_EN);
      assertThat(done.get("error").asText()).contains("language model");
      assertThat(done.get("error").asText()).doesNotContain("500", "127.0.0.1", "Exception");
      assertThat(client.expect("error").get("code").asText()).isEqualTo("llm_unavailable");

      client.send("{\"type\":\"user_text\",\"id\":\"t-2\",\"text\":\"hello again\"}");
      assertThat(client.next("reply_done").get("outcome").asText()).isEqualTo("completed");
    }
  }

  @Test
  void end_closesTheSessionThroughItsStates_thenTheSocketWith1000() throws Exception {
    start();
    try (WsClient client = connectGreeted("ali")) {
      assertThat(activeSessions()).isEqualTo(1);
      client.send("{\"type\":\"end\"}");
      JsonNode closing = client.expect("state");
      assertThat(closing.get("state").asText()).isEqualTo("closing");
      assertThat(client.expect("state").get("state").asText()).isEqualTo("closed");
      assertThat(client.awaitClose().code()).isEqualTo(1000);
      await(() -> activeSessions() == 0, "the session closed");
    }
  }

  // ---------------------------------------------------------------- bad messages

  @Test
  void badMessages_getAnError_andTheSessionGoesOn() {
    start();
    try (WsClient client = connectGreeted("ali")) {
      client.send("hello?");
      assertThat(client.expect("error").get("code").asText()).isEqualTo("invalid_message");
      client.send("[1,2]");
      assertThat(client.expect("error").get("code").asText()).isEqualTo("invalid_message");
      client.send("{\"text\":\"no type\"}");
      assertThat(client.expect("error").get("code").asText()).isEqualTo("invalid_message");
      client.send("{\"type\":\"shout\"}");
      JsonNode unknown = client.expect("error");
      assertThat(unknown.get("code").asText()).isEqualTo("invalid_message");
      assertThat(unknown.get("message").asText()).contains("'shout'", "user_text, interrupt, end, ping, audio_start or audio_stop");
      client.send("{\"type\":\"user_text\"}");
      assertThat(client.expect("error").get("message").asText()).contains("'text'");
      client.send("{\"type\":\"user_text\",\"text\":42}");
      assertThat(client.expect("error").get("code").asText()).isEqualTo("invalid_message");
      client.send("{\"type\":\"user_text\",\"text\":\"   \"}");
      assertThat(client.expect("error").get("code").asText()).isEqualTo("invalid_message");
      client.send("{\"type\":\"user_text\",\"text\":\"hi\",\"id\":{\"no\":1}}");
      assertThat(client.expect("error").get("message").asText()).contains("'id'");
      client.send("{\"type\":\"user_text\",\"text\":\"hi\",\"lang\":\"not a language\"}");
      assertThat(client.expect("error").get("message").asText()).contains("'lang'");
      client.send("{\"type\":\"user_text\",\"text\":\"" + "ب".repeat(4097) + "\"}"); // 8194 bytes of UTF-8
      JsonNode tooLarge = client.expect("error");
      assertThat(tooLarge.get("code").asText()).isEqualTo("too_large");
      assertThat(tooLarge.get("message").asText()).contains("8194", "8192");
      client.sendBinary(new byte[] {1, 2, 3});
      assertThat(client.expect("error").get("message").asText()).contains("binary");

      client.send("{\"type\":\"ping\",\"t\":{\"sent\":17}}");
      assertThat(client.expect("pong").get("t").get("sent").asInt()).isEqualTo(17);
      client.send("{\"type\":\"user_text\",\"id\":\"t-9\",\"text\":\"still here\",\"future\":\"ignored\"}");
      JsonNode done = client.next("reply_done");
      assertThat(done.get("outcome").asText()).isEqualTo("completed");
      assertThat(done.get("text").asText()).contains("still here");
      assertThat(client.isClosed()).isFalse();
    }
  }

  @Test
  void manyInvalidMessagesInARow_close1008() {
    start();
    try (WsClient client = connectGreeted("ali")) {
      for (int i = 0; i < SessionApi.Settings.DEFAULT_MAX_INVALID_IN_A_ROW; i++) {
        client.send("nope " + i);
      }
      WsClient.Closed closed = client.awaitClose();
      assertThat(closed.code()).isEqualTo(1008);
      assertThat(closed.reason()).contains("invalid messages in a row");
    }
  }

  @Test
  void aFrameOverTheLimit_closes1009_andTheSession() throws Exception {
    start();
    try (WsClient client = connectGreeted("ali")) {
      client.send("{\"type\":\"user_text\",\"text\":\"" + "x".repeat(SessionApi.Settings.DEFAULT_MAX_FRAME_BYTES) + "\"}");
      assertThat(client.awaitClose().code()).isEqualTo(1009);
      await(() -> activeSessions() == 0, "the session closed");
    }
  }

  // ---------------------------------------------------------------- leaving

  @Test
  void clientDisconnectMidReply_closesTheSessionCleanly() throws Exception {
    start();
    llm.latency(Duration.ZERO, Duration.ofMillis(20));
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    logs.start();
    root.addAppender(logs);
    try {
      WsClient client = connectGreeted("ali");
      client.send("{\"type\":\"user_text\",\"text\":\"" + STORY + "\"}");
      client.next("reply_delta");
      int streamsBefore = llm.count(Purpose.CONVERSATION);
      client.abort();
      await(() -> activeSessions() == 0, "the session closed after the client vanished");
      await(() -> closeLines(logs) == 1, "the close of the vanished client's session logged"); // its last event
      assertThat(llm.count(Purpose.CONVERSATION)).isEqualTo(streamsBefore);

      WsClient polite = connectGreeted("ali");
      polite.send("{\"type\":\"user_text\",\"text\":\"" + STORY + "\"}");
      polite.next("reply_delta");
      polite.closeNormally();
      assertThat(polite.awaitClose().code()).isEqualTo(1000);
      await(() -> activeSessions() == 0, "the session closed after the client closed");
      await(() -> closeLines(logs) == 2, "the close of the polite client's session logged");
    } finally {
      root.detachAppender(logs);
    }
    // Only the session's own path (Yaad, Jetty, Javalin): the embedding model may warm up meanwhile and say so.
    assertThat(logs.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .filteredOn(e -> e.getLoggerName().startsWith("dev.yaad") || e.getLoggerName().startsWith("org.eclipse.jetty")
            || e.getLoggerName().startsWith("io.javalin"))
        .isEmpty();
    assertThat(logs.list).filteredOn(e -> e.getFormattedMessage().contains("event=close")).map(ILoggingEvent::getFormattedMessage)
        .satisfiesExactly(
            aborted -> assertThat(aborted).contains("reason=\"connection lost\"", "code=1006", "turns=1"),
            closed -> assertThat(closed).contains("reason=\"client closed 1000\"", "code=1000", "turns=1"));
  }

  @Test
  void aClientThatAnswersNoPings_isClosed1001Idle() throws Exception {
    start();
    try (Socket raw = new Socket("127.0.0.1", server.port())) {
      raw.setSoTimeout(10_000);
      InputStream in = handshake(raw);
      long started = System.nanoTime();
      int pings = 0;
      while (true) { // read frames, answer nothing
        RawWebSocket.Frame frame = RawWebSocket.Frame.read(in);
        if (frame.opcode() == 0x9) {
          pings++;
        }
        if (frame.isClose()) {
          byte[] payload = frame.payload();
          assertThat(frame.closeCode()).isEqualTo(1001);
          assertThat(new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8)).isEqualTo("idle");
          break;
        }
      }
      assertThat(pings).isPositive();
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(1400));
    }
  }

  @Test
  void aClientThatAnswersPings_staysOpenWhileSilent() throws Exception {
    start();
    try (Socket raw = new Socket("127.0.0.1", server.port())) {
      raw.setSoTimeout(10_000);
      InputStream in = handshake(raw);
      long started = System.nanoTime();
      int pings = 0;
      // Silent but answering every ping, until well past the 1.5 s idle timeout (ten pings of 200 ms).
      while (pings < 10 || System.nanoTime() - started < Duration.ofMillis(2500).toNanos()) {
        RawWebSocket.Frame frame = RawWebSocket.Frame.read(in);
        assertThat(frame.opcode()).as("the server must not close a client that answers its pings").isNotEqualTo(0x8);
        if (frame.opcode() == 0x9) {
          pings++;
          RawWebSocket.write(raw.getOutputStream(), 0x8A, frame.payload()); // pong, with the ping's payload
        }
      }
      RawWebSocket.writeText(raw.getOutputStream(), "{\"type\":\"ping\"}");
      RawWebSocket.Frame pong;
      do {
        pong = RawWebSocket.Frame.read(in);
      } while (pong.opcode() != 0x1 || !new String(pong.payload(), StandardCharsets.UTF_8).contains("\"type\":\"pong\""));
    }
  }

  @Test
  void serverStop_closesEverySessionThroughItsStates_then1001() {
    start();
    WsClient client = connectGreeted("ali");
    server.stop();
    assertThat(client.next("state").get("state").asText()).isEqualTo("closing");
    assertThat(client.next("state").get("state").asText()).isEqualTo("closed");
    assertThat(client.awaitClose().code()).isEqualTo(1001);
  }

  @Test
  void aClientThatStopsReading_isClosed1013_andItsSessionClosed() throws Exception {
    // The default heartbeat: Jetty's idle backstop must not end the stalled connection first.
    start(new YaadServer.AgentTuning(AgentConfig.defaults(), LearningConfig.defaults(), SessionApi.Settings.defaults()), true);
    try (Socket raw = new Socket()) {
      raw.setReceiveBufferSize(4096); // before connecting: a small window, so the server's writes stall soon
      raw.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()));
      raw.setSoTimeout(20_000);
      InputStream in = handshake(raw);
      String turn = "{\"type\":\"user_text\",\"text\":\"" + FLOOD + "\"}";
      RawWebSocket.Frame greeting;
      do { // read until the greeting is over
        greeting = RawWebSocket.Frame.read(in);
      } while (greeting.opcode() != 0x1 || !new String(greeting.payload(), StandardCharsets.UTF_8).contains("\"type\":\"reply_done\""));
      RawWebSocket.writeText(raw.getOutputStream(), turn);
      await(() -> activeSessions() == 0, "the session of the client that stopped reading closed");
      // now read everything that was on its way, up to the close frame
      assertThat(RawWebSocket.readUntilClose(in)).isEqualTo(1013);
    }
  }

  @Test
  void tooManySessions_close1013() {
    start(new YaadServer.AgentTuning(AgentConfig.defaults(), LearningConfig.defaults(),
        SessionApi.Settings.defaults().withLimits(1, SessionApi.Settings.DEFAULT_MAX_SESSIONS_PER_USER,
            SessionApi.Settings.DEFAULT_MAX_QUEUED_BYTES)), true);
    try (WsClient first = connectGreeted("ali"); WsClient second = connect("bob")) {
      assertThat(second.awaitClose().code()).isEqualTo(1013);
      first.send("{\"type\":\"ping\"}");
      first.next("pong");
    }
  }

  // ---------------------------------------------------------------- who may connect

  @Test
  void upgrade_isRefusedWithoutTheRightCredentials() {
    start();
    int port = server.port();
    assertThat(WsClient.refusedStatus(port, "userId=ali", null)).isEqualTo(401);
    assertThat(WsClient.refusedStatus(port, "userId=ali", "not-a-key-or-token")).isEqualTo(401);
    assertThat(WsClient.refusedStatus(port, "token=forged.token.here", null)).isEqualTo(401);
    // A token for ali cannot open a session as bob, in the query or the header.
    assertThat(WsClient.refusedStatus(port, "userId=bob&token=" + token("ali"), null)).isEqualTo(403);
    assertThat(WsClient.refusedStatus(port, "userId=bob", token("ali"))).isEqualTo(403);
    // An API key must say which user.
    assertThat(WsClient.refusedStatus(port, "", API_KEY)).isEqualTo(400);
    assertThat(WsClient.refusedStatus(port, "userId=ali&lang=" + "x".repeat(50), API_KEY)).isEqualTo(400);
  }

  @Test
  void theSessionIsForTheTokensUser_whateverTheClientSaysLater() {
    start();
    try (WsClient client = WsClient.connect(server.port(), "token=" + token("ali"), null)) {
      assertThat(client.expect("state").get("userId").asText()).isEqualTo("ali");
      client.next("reply_done");
      client.send("{\"type\":\"user_text\",\"text\":\"what do you know about me\",\"userId\":\"bob\"}");
      client.next("reply_done");
    }
    try (WsClient admin = WsClient.connect(server.port(), "userId=bob", API_KEY)) {
      assertThat(admin.expect("state").get("userId").asText()).isEqualTo("bob");
    }
  }

  @Test
  void anOpenServer_takesTheUserFromTheQuery_andStillChecksAPresentedToken() {
    YaadServer.Config config = YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0)
        .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null));
    server = new YaadServer(config, tuning()).start();
    try (WsClient client = WsClient.connect(server.port(), "userId=ali&lang=ur-PK", null)) {
      assertThat(client.expect("state").get("userId").asText()).isEqualTo("ali");
    }
    assertThat(WsClient.refusedStatus(server.port(), "", null)).isEqualTo(400);
    assertThat(WsClient.refusedStatus(server.port(), "userId=ali&token=forged.token.here", null)).isEqualTo(401);
  }

  @Test
  void withoutAnLlm_theUpgradeIsAnswered503NamingWhatToSet() {
    start(tuning(), false);
    assertThat(admin.get("/api/v1/config").json().get("sessionsAvailable").asBoolean()).isFalse();
    assertThat(WsClient.refusedStatus(server.port(), "userId=ali", API_KEY)).isEqualTo(503);
  }

  @Test
  void config_saysSessionsAreAvailable_andMetricsShowThem() {
    start();
    assertThat(admin.get("/api/v1/config").json().get("sessionsAvailable").asBoolean()).isTrue();
    try (WsClient client = connectGreeted("ali")) {
      client.send("{\"type\":\"user_text\",\"text\":\"" + JOB + "\"}");
      client.next("reply_done");
      String metrics = admin.get("/metrics").body();
      assertThat(metrics).contains("yaad_agent_sessions_active 1.0", "yaad_agent_greetings_total{outcome=\"sent\"} 1.0",
          "yaad_agent_tool_seconds_bucket{ok=\"true\",tool=\"searchMemories\"", "yaad_agent_reply_first_token_seconds_count",
          "yaad_agent_llm_duration_seconds_count{ok=\"true\",purpose=\"reply\"}", "yaad_agent_learning_queue",
          "yaad_agent_learning_outbox");
    }
  }

  /** The upgrade of a client by hand (one that never answers pings, or stops reading), as ali with the API key. */
  private static InputStream handshake(Socket raw) throws java.io.IOException {
    return RawWebSocket.handshake(raw, "userId=ali", List.of("Authorization: Bearer " + API_KEY));
  }

  @Test
  void settings_refuseImpossibleValues_namingThem() {
    SessionApi.Settings defaults = SessionApi.Settings.defaults();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> defaults.withHeartbeat(Duration.ofSeconds(15), Duration.ofSeconds(20)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleTimeout (PT20S) must be at least twice pingInterval");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> defaults.withHeartbeat(Duration.ZERO, Duration.ofSeconds(45)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pingInterval must be positive");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> defaults.withLimits(0, 1, SessionApi.Settings.DEFAULT_MAX_QUEUED_BYTES))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxSessions");
  }
}
