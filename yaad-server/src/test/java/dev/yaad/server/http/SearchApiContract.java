package dev.yaad.server.http;

import static dev.yaad.server.http.MemoryApiContract.assertError;
import static dev.yaad.server.http.MemoryApiContract.assertMessage;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.YaadServer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code POST /api/v1/users/{userId}/search} over real HTTP against a real server and database. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SearchApiContract {
  private StoreConfig database;
  private YaadServer server;
  private Http http;

  abstract StoreConfig newDatabase();

  abstract void dropDatabase(StoreConfig database);

  @BeforeAll
  void startServer() {
    database = newDatabase();
    server = new YaadServer(YaadServer.Config.of(database).withAddress("127.0.0.1", 0)).start();
    http = new Http(server.port());
  }

  @AfterAll
  void stopServer() {
    if (server != null) {
      server.stop();
    }
    dropDatabase(database);
  }

  static String newUser() {
    return "user-" + UUID.randomUUID().toString().substring(0, 13);
  }

  private String search(String user) {
    return "/api/v1/users/" + user + "/search";
  }

  private void addAll(String user, String... categoryContentOccurred) {
    ArrayNode list = JsonBody.JSON.createArrayNode();
    for (int i = 0; i < categoryContentOccurred.length; i += 3) {
      ObjectNode m = list.addObject().put("category", categoryContentOccurred[i]).put("content", categoryContentOccurred[i + 1]);
      if (categoryContentOccurred[i + 2] != null) {
        m.put("occurredAt", categoryContentOccurred[i + 2]);
      }
    }
    Http.Response r = http.post("/api/v1/users/" + user + "/memories:batch", JsonBody.JSON.createObjectNode().set("memories", list).toString());
    assertThat(r.status()).as(r.body()).isEqualTo(201);
  }

  private List<String> contents(Http.Response response) {
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    List<String> out = new ArrayList<>();
    for (JsonNode hit : response.json().get("hits")) {
      out.add(hit.get("memory").get("content").asText());
    }
    return out;
  }

  @Test
  void search_returnsHitsWithMemoryAndScore_bestFirst() {
    String user = newUser();
    addAll(user, "PREFERENCE", "Loves green tea with cardamom", null,
        "FACT", "Works as a nurse in Lahore", null,
        "INTEREST", "Plays cricket on Sundays", null);

    Http.Response response = http.post(search(user), "{\"query\":\"what does she drink\",\"k\":2}");

    assertThat(contents(response)).hasSize(2).first().isEqualTo("Loves green tea with cardamom");
    JsonNode first = response.json().get("hits").get(0);
    assertThat(first.get("score").asDouble()).isBetween(0.0, 1.0);
    assertThat(first.get("memory").get("id").asText()).hasSize(36);
    assertThat(first.get("memory").get("metadata").isObject()).isTrue();
  }

  @Test
  void search_seesAWriteMadeJustBefore_andNotADeletedMemory() {
    String user = newUser();
    addAll(user, "FACT", "Has a cat called Biscuit", null);
    assertThat(contents(http.post(search(user), "{\"query\":\"Biscuit\"}"))).containsExactly("Has a cat called Biscuit");

    Http.Response added = http.post("/api/v1/users/" + user + "/memories", "{\"category\":\"FACT\",\"content\":\"Adopted a dog named Sheru\"}");
    assertThat(contents(http.post(search(user), "{\"query\":\"Sheru\",\"k\":1}"))).containsExactly("Adopted a dog named Sheru");

    assertThat(http.delete("/api/v1/users/" + user + "/memories/" + added.json().get("id").asText()).status()).isEqualTo(204);
    assertThat(contents(http.post(search(user), "{\"query\":\"Sheru\"}"))).doesNotContain("Adopted a dog named Sheru");
  }

  @Test
  void search_filtersByCategoriesAndTime() {
    String user = newUser();
    addAll(user, "EXPERIENCE", "Went hiking in the Margalla hills", "2023-05-08T13:56:00Z",
        "PLAN", "Wants to go hiking in Hunza", "2023-06-09T10:00:00+05:00",
        "EXPERIENCE", "Went hiking with colleagues", "2024-01-10T10:00:00Z");

    assertThat(contents(http.post(search(user), "{\"query\":\"hiking\",\"categories\":[\"plan\"]}")))
        .containsExactly("Wants to go hiking in Hunza");
    assertThat(contents(http.post(search(user), "{\"query\":\"hiking\",\"from\":\"2023-05-01T00:00:00Z\",\"to\":\"2023-06-01T00:00:00Z\"}")))
        .containsExactly("Went hiking in the Margalla hills");
  }

  @Test
  void search_namedTimes_countFromTheQuerysTime() {
    String user = newUser();
    addAll(user, "EXPERIENCE", "Bought a new phone at the market", "2023-10-03T20:00:00Z",
        "EXPERIENCE", "Bought vegetables at the market", "2023-10-01T10:00:00Z");
    String yesterday = "{\"query\":\"what did I buy at the market yesterday\",\"at\":\"%s\",\"timeZone\":\"%s\"}";

    assertThat(contents(http.post(search(user), yesterday.formatted("2023-10-04T12:00:00Z", "UTC"))))
        .first().isEqualTo("Bought a new phone at the market");
    assertThat(contents(http.post(search(user), yesterday.formatted("2023-10-02T09:00:00+05:00", "Asia/Karachi"))))
        .first().isEqualTo("Bought vegetables at the market");
    assertThat(contents(http.post(search(user), "{\"query\":\"market on 1 October 2023\"}")))
        .first().isEqualTo("Bought vegetables at the market");
  }

  @Test
  void search_urduQuery_findsUrduMemory() {
    String user = newUser();
    addAll(user, "FACT", "میری بہن کا نام عائشہ ہے", null, "FACT", "I work at a bank in Karachi", null);

    assertThat(contents(http.post(search(user), "{\"query\":\"میری بہن\",\"k\":1}"))).containsExactly("میری بہن کا نام عائشہ ہے");
  }

  @Test
  void search_unknownUser_hasNoHits() {
    assertThat(contents(http.post(search(newUser()), "{\"query\":\"anything\"}"))).isEmpty();
  }

  @Test
  void search_badRequests_are400NamingTheField() {
    String user = newUser();
    assertMessage(http.post(search(user), "{\"k\":5}"), 400, "'query' is required");
    assertMessage(http.post(search(user), "{\"query\":\" \"}"), 400, "query must not be empty");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"k\":0}"), 400, "'k' must be between 1 and 100");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"k\":101}"), 400, "(was 101)");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"categories\":\"FACT\"}"), 400, "'categories' must be an array");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"categories\":[\"NOPE\"]}"), 400, "unknown category");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"from\":\"2024-01-02T00:00:00Z\",\"to\":\"2024-01-01T00:00:00Z\"}"), 400, "'from'");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"from\":\"2024-01-02\"}"), 400, "'from' must be an ISO-8601");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"limit\":3}"), 400, "unknown field 'limit'");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"timeZone\":\"Mars/Olympus\"}"), 400, "'timeZone' must be a time zone");
    assertMessage(http.post(search(user), "{\"query\":\"x\",\"at\":\"yesterday\"}"), 400, "'at' must be an ISO-8601");
    assertError(http.post(search("bad%20user"), "{\"query\":\"x\"}"), 400, "invalid_input");
    assertError(http.get(search(user)), 405, "method_not_allowed");
  }
}
