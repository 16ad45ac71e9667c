package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Await;
import dev.yaad.memory.testing.Services;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.testing.ScriptedLlmServer;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Sessions on two servers sharing one PostgreSQL and one Redis, as in production: what one
 * instance learns reaches the user's sessions on both, once each; deleting a user on one closes
 * the user's sessions on both and refuses new ones until the deletion is over.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterSessionsTest {
  private static final String NURSE = "Please keep in mind that I work as a nurse at the city hospital";
  private static final String NURSE_FACT = "Works as a nurse at the city hospital";

  private StoreConfig database;
  private ScriptedLlmServer llm;
  private YaadServer a;
  private YaadServer b;

  @BeforeAll
  void start() {
    llm = ScriptedLlmServer.start()
        .rule(c -> c.purpose() == Purpose.CONVERSATION && !c.hasToolResults() && c.lastUserMessage().equals(NURSE),
            c -> Answer.toolCall("saveMemory", "{\"category\":\"FACT\",\"content\":\"" + NURSE_FACT + "\"}"))
        .rule(c -> c.purpose() == Purpose.EXTRACT, c -> Answer.text("{\"memories\":[]}"))
        .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("Noted."));
    database = TestStores.postgres();
    CacheConfig cache = CacheConfig.defaults().withRedisUrl(Services.redisUri())
        .withRedisKeyPrefix("yaad-test-" + UUID.randomUUID().toString().substring(0, 8) + ":");
    YaadServer.AgentTuning tuning = new YaadServer.AgentTuning(AgentConfig.defaults().withGreetOnReady(false),
        LearningConfig.defaults(), SessionApi.Settings.defaults());
    YaadServer.Config config = YaadServer.Config.of(database).withAddress("127.0.0.1", 0).withCache(cache)
        .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null));
    a = new YaadServer(config, tuning).start();
    b = new YaadServer(config, tuning).start();
    Await.until(() -> connected(a) && connected(b), WsClient.WAIT, "both instances on the event channel");
  }

  @AfterAll
  void stop() {
    for (AutoCloseable c : new AutoCloseable[] {a, b, llm}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // closing the rest regardless
      }
    }
    TestStores.dropSchema(database);
  }

  @Test
  void whatOneInstanceLearns_reachesTheUsersSessionsOnBoth_onceEach_andNoOtherUser() {
    String user = "nurse-" + UUID.randomUUID().toString().substring(0, 8);
    try (WsClient onA = active(a, user); WsClient onB = active(b, user); WsClient other = active(b, user + "-other")) {
      double echoesBefore = duplicates(a);
      onA.send("{\"type\":\"user_text\",\"text\":\"" + NURSE + "\"}");
      JsonNode seenOnA = onA.next("learned");
      JsonNode seenOnB = onB.next("learned");
      String id = seenOnA.path("added").path(0).path("id").asText();
      assertThat(seenOnA.path("added").path(0).path("content").asText()).isEqualTo(NURSE_FACT);
      assertThat(seenOnB.path("added").path(0).path("id").asText()).isEqualTo(id);
      // A hears its own event back from Redis, after it delivered it here directly: dropped, not sent twice.
      Await.until(() -> duplicates(a) > echoesBefore, WsClient.WAIT, "A's own event back from Redis");
      onA.next("reply_done");
      for (WsClient client : List.of(onA, onB)) {
        client.send("{\"type\":\"ping\",\"t\":1}");
        List<JsonNode> before = new java.util.ArrayList<>();
        client.next("pong", before);
        assertThat(before).filteredOn(m -> m.path("type").asText().equals("learned") && m.toString().contains(id))
            .as("the same learned again").isEmpty();
      }
      other.send("{\"type\":\"ping\",\"t\":1}");
      List<JsonNode> otherSaw = new java.util.ArrayList<>();
      other.next("pong", otherSaw);
      assertThat(otherSaw).extracting(m -> m.path("type").asText()).doesNotContain("learned");
    }
  }

  @Test
  void deletingAUserOnOneInstance_closesTheirSessionsOnBoth_andRefusesNewOnesUntilItIsOver() throws Exception {
    String user = "gone-" + UUID.randomUUID().toString().substring(0, 8);
    Http httpA = new Http(a.port());
    assertThat(httpA.post("/api/v1/users/" + user + "/memories", "{\"category\":\"FACT\",\"content\":\"has a goldfish\"}").status())
        .isEqualTo(201);
    try (WsClient onA = active(a, user); WsClient onB = active(b, user); WsClient other = active(b, user + "-other");
        Connection holder = DriverManager.getConnection(database.jdbcUrl(), database.username(), database.password())) {
      // Hold the user's deletion lock, so that the deletion, once begun, waits inside its transaction.
      holder.setAutoCommit(false);
      try (PreparedStatement lock = holder.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
        lock.setLong(1, JdbcMemoryStore.userLockKey(user));
        lock.executeQuery().close();
      }
      CompletableFuture<Integer> deletion = CompletableFuture.supplyAsync(() -> httpA.delete("/api/v1/users/" + user).status());

      for (WsClient client : List.of(onA, onB)) {
        assertThat(client.next("error").path("code").asText()).isEqualTo("user_deleted");
        assertThat(client.awaitClose().code()).isEqualTo(SessionApi.CLOSE_USER_DELETED);
      }
      try (WsClient during = WsClient.connect(b.port(), "userId=" + user, null)) {
        assertThat(during.awaitClose().code()).as("a new session while the deletion runs").isEqualTo(SessionApi.CLOSE_USER_DELETED);
      }
      assertThat(deletion).isNotDone();
      holder.rollback(); // the deletion goes on
      assertThat(deletion.get()).isEqualTo(204);

      try (WsClient after = activeOnceDeletionIsOver(b, user)) { // the id is a new user now
        after.send("{\"type\":\"ping\",\"t\":2}");
        after.next("pong");
      }
      other.send("{\"type\":\"ping\",\"t\":3}");
      assertThat(other.next("pong").path("t").asInt()).as("another user's session goes on").isEqualTo(3);
    }
    assertThat(httpA.get("/api/v1/users/" + user + "/memories").status()).isEqualTo(404);
  }

  /**
   * A session of {@code user} on {@code server} once it takes one: an instance other than the one
   * that deleted the user hears that the deletion is over through Redis, a moment after the
   * deletion answered, and refuses the user ({@code 4410}) until then.
   */
  private static WsClient activeOnceDeletionIsOver(YaadServer server, String user) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      WsClient client = WsClient.connect(server.port(), "userId=" + user, null);
      while (client.awaitMessageOrClose()) {
        JsonNode m = client.next();
        if (m.path("type").asText().equals("state") && m.path("state").asText().equals("active")) {
          return client;
        }
      }
      assertThat(client.awaitClose().code()).isEqualTo(SessionApi.CLOSE_USER_DELETED);
      assertThat(System.nanoTime() - deadline).as("still refused 10 s after the deletion ended").isNegative();
      Thread.sleep(50);
    }
  }

  /** A session of {@code user} on {@code server}, read up to {@code active}. */
  private static WsClient active(YaadServer server, String user) {
    WsClient client = WsClient.connect(server.port(), "userId=" + user, null);
    while (!client.next("state").path("state").asText().equals("active")) {
      // connecting first
    }
    return client;
  }

  private static double duplicates(YaadServer server) {
    return server.meterRegistry().get("yaad.cluster.events.duplicates").gauge().value();
  }

  private static boolean connected(YaadServer server) {
    return server.meterRegistry().get("yaad.cluster.events.connected").gauge().value() == 1;
  }
}
