package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memories;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.YaadServer;
import io.javalin.Javalin;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The REST API over real HTTP against a real server and database; each backend runs the
 * same tests by extending this class. Every test works on users of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class MemoryApiContract {
  private static final String FIRST_PAGE_SIZE = String.valueOf(Limits.DEFAULT_PAGE_SIZE);

  private final List<StoreConfig> databases = new ArrayList<>();
  private final List<YaadServer> servers = new ArrayList<>();
  private StoreConfig database;
  Http http;

  /** A fresh, empty database of this backend. */
  abstract StoreConfig newDatabase();

  /** Removes what {@link #newDatabase} made. */
  abstract void dropDatabase(StoreConfig database);

  @BeforeAll
  void startServer() {
    database = trackedDatabase();
    http = new Http(start(database).port());
  }

  @AfterAll
  void stopServers() {
    servers.forEach(YaadServer::stop);
    databases.forEach(this::dropDatabase);
  }

  private StoreConfig trackedDatabase() {
    StoreConfig config = newDatabase();
    databases.add(config);
    return config;
  }

  private YaadServer start(StoreConfig store) {
    YaadServer server = new YaadServer(YaadServer.Config.of(store).withAddress("127.0.0.1", 0)).start();
    servers.add(server);
    return server;
  }

  // --- happy paths -------------------------------------------------------------------------

  @Test
  void health_answersOk() {
    Http.Response response = http.get("/health");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("status").asText()).isEqualTo("ok");
  }

  @Test
  void addMemory_returns201WithLocationAndTheMemory() {
    String user = newUser();
    Instant before = Instant.now().minusSeconds(1);
    Http.Response created = http.post(memories(user),
        "{\"category\":\"fact\",\"content\":\"likes tea\",\"metadata\":{\"source\":\"call\",\"turn\":3}}");

    assertThat(created.status()).isEqualTo(201);
    JsonNode m = created.json();
    assertThat(m.get("id").asText()).hasSize(36);
    assertThat(m.get("userId").asText()).isEqualTo(user);
    assertThat(m.get("category").asText()).isEqualTo("FACT");
    assertThat(m.get("content").asText()).isEqualTo("likes tea");
    assertThat(m.get("metadata").isObject()).isTrue();
    assertThat(m.get("metadata").toString()).isEqualTo("{\"source\":\"call\",\"turn\":3}");
    assertThat(m.get("occurredAt").isNull()).isTrue();
    assertThat(Instant.parse(m.get("createdAt").asText())).isAfter(before);
    assertThat(m.get("updatedAt").asText()).isEqualTo(m.get("createdAt").asText());
    assertThat(created.header("Location")).isEqualTo(memories(user) + "/" + m.get("id").asText());

    Http.Response fetched = http.get(created.header("Location"));
    assertThat(fetched.status()).isEqualTo(200);
    assertThat(fetched.json()).isEqualTo(m);
  }

  @Test
  void addMemory_urduEmojiAndRtlMarks_roundTripExactly() {
    String user = newUser();
    String content = "میں کراچی میں رہتا ہوں اور چائے پسند ہے \u200F☕️ 👨‍👩‍👧 (RTL\u200F mark) \uD83C\uDDF5\uD83C\uDDF0";
    ObjectNode body = JsonBody.JSON.createObjectNode().put("category", "PREFERENCE").put("content", content);
    body.putObject("metadata").put("شہر", "کراچی").put("emoji", "🌙");
    Http.Response created = http.post(memories(user), body.toString());
    assertThat(created.status()).isEqualTo(201);

    JsonNode fetched = http.get(created.header("Location")).json();
    assertThat(fetched.get("content").asText()).isEqualTo(content);
    assertThat(fetched.get("content").asText().getBytes(StandardCharsets.UTF_8)).isEqualTo(content.getBytes(StandardCharsets.UTF_8));
    assertThat(fetched.get("metadata").get("شہر").asText()).isEqualTo("کراچی");
    assertThat(fetched.get("metadata").get("emoji").asText()).isEqualTo("🌙");
  }

  @Test
  void addMemory_metadataNumbersComeBackAsSent() {
    String user = newUser();
    Http.Response created = http.post(memories(user),
        "{\"category\":\"FACT\",\"content\":\"n\",\"metadata\":{\"score\":1.10,\"big\":12345678901234567890,\"tiny\":0.000100}}");
    assertThat(created.status()).isEqualTo(201);
    String raw = http.get(created.header("Location")).body();
    assertThat(raw).contains("\"metadata\":{\"score\":1.10,\"big\":12345678901234567890,\"tiny\":0.000100}");
  }

  @Test
  void addMemory_occurredAtWithOffset_isReturnedInUtc() {
    String user = newUser();
    Http.Response created = http.post(memories(user),
        "{\"category\":\"EXPERIENCE\",\"content\":\"graduated\",\"occurredAt\":\"2019-06-01T15:00:00+05:00\"}");
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.json().get("occurredAt").asText()).isEqualTo("2019-06-01T10:00:00Z");
  }

  @Test
  void addMemory_userIdWithPlusAtAndColon_isKeptLiterally() {
    String user = "ali+" + UUID.randomUUID().toString().substring(0, 8) + "@example.com:web";
    Http.Response created = http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\"}");
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.json().get("userId").asText()).isEqualTo(user);
    assertThat(http.get(created.header("Location")).json().get("userId").asText()).isEqualTo(user);
  }

  @Test
  void listMemories_pagesNewestFirstWithCursor() {
    String user = newUser();
    List<String> ids = ids(addBatch(user, "FACT", 5)); // oldest first
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Http.Response page = http.get(memories(user) + "?limit=2" + (cursor == null ? "" : "&cursor=" + cursor));
      assertThat(page.status()).isEqualTo(200);
      JsonNode items = page.json().get("items");
      assertThat(items.size()).isBetween(1, 2);
      items.forEach(m -> seen.add(m.get("id").asText()));
      cursor = page.json().get("nextCursor").isNull() ? null : page.json().get("nextCursor").asText();
      pages++;
    } while (cursor != null && pages < 10);

    assertThat(pages).isEqualTo(3);
    assertThat(seen).containsExactlyElementsOf(ids.reversed());
  }

  @Test
  void listMemories_defaultsTo20AndFiltersByCategory() {
    String user = newUser();
    addBatch(user, "GOAL", 22);
    addBatch(user, "PLAN", 3);

    JsonNode all = http.get(memories(user)).json();
    assertThat(all.get("items").size()).isEqualTo(Integer.parseInt(FIRST_PAGE_SIZE));
    assertThat(all.get("nextCursor").isTextual()).isTrue();

    JsonNode plans = http.get(memories(user) + "?category=plan").json();
    assertThat(plans.get("items").size()).isEqualTo(3);
    assertThat(plans.get("items").findValuesAsText("category")).containsOnly("PLAN");
    assertThat(plans.get("nextCursor").isNull()).isTrue();

    JsonNode blanks = http.get(memories(user) + "?category=&cursor=&limit=").json();
    assertThat(blanks).isEqualTo(all);

    JsonNode hundred = http.get(memories(user) + "?limit=100").json();
    assertThat(hundred.get("items").size()).isEqualTo(25);
  }

  @Test
  void batch_addsAllInInputOrder() {
    String user = newUser();
    Http.Response response = http.post(batch(user), """
        {"memories":[
          {"category":"GOAL","content":"run a 10k"},
          {"category":"RELATIONSHIP","content":"sister is Ayesha","metadata":{"name":"Ayesha"}},
          {"category":"PLAN","content":"visit Lahore","occurredAt":"2026-12-20T09:00:00Z"}]}""");
    assertThat(response.status()).isEqualTo(201);
    JsonNode items = response.json().get("items");
    assertThat(items.findValuesAsText("content")).containsExactly("run a 10k", "sister is Ayesha", "visit Lahore");
    assertThat(items.get(1).get("metadata").get("name").asText()).isEqualTo("Ayesha");
    assertThat(items.get(2).get("occurredAt").asText()).isEqualTo("2026-12-20T09:00:00Z");
    assertThat(http.get(memories(user)).json().get("items").size()).isEqualTo(3);
  }

  @Test
  void updateMemory_changesOnlyTheGivenFields() {
    String user = newUser();
    JsonNode m = add(user, "FACT", "lives in Karachi");
    Http.Response patched = http.patch(memory(user, m), "{\"content\":\"lives in Lahore\",\"metadata\":{\"moved\":2024}}");
    assertThat(patched.status()).isEqualTo(200);
    JsonNode updated = patched.json();
    assertThat(updated.get("content").asText()).isEqualTo("lives in Lahore");
    assertThat(updated.get("metadata").get("moved").asInt()).isEqualTo(2024);
    assertThat(updated.get("category").asText()).isEqualTo("FACT");
    assertThat(updated.get("createdAt")).isEqualTo(m.get("createdAt"));
    assertThat(Instant.parse(updated.get("updatedAt").asText())).isAfter(Instant.parse(m.get("updatedAt").asText()));
    assertThat(http.get(memory(user, m)).json()).isEqualTo(updated);

    JsonNode recategorised = http.patch(memory(user, m), "{\"category\":\"goal\",\"occurredAt\":\"2024-01-01T00:00:00Z\"}").json();
    assertThat(recategorised.get("category").asText()).isEqualTo("GOAL");
    assertThat(recategorised.get("occurredAt").asText()).isEqualTo("2024-01-01T00:00:00Z");
    assertThat(recategorised.get("content").asText()).isEqualTo("lives in Lahore");
  }

  @Test
  void deleteMemory_removesIt() {
    String user = newUser();
    JsonNode keep = add(user, "FACT", "keep");
    JsonNode gone = add(user, "FACT", "gone");
    Http.Response deleted = http.delete(memory(user, gone));
    assertThat(deleted.status()).isEqualTo(204);
    assertThat(deleted.body()).isEmpty();
    assertError(http.get(memory(user, gone)), 404, "not_found");
    assertError(http.delete(memory(user, gone)), 404, "not_found");
    assertThat(http.get(memory(user, keep)).status()).isEqualTo(200);
  }

  @Test
  void deleteUser_removesTheirMemoriesAndProfileOnly() {
    String doomed = newUser();
    String other = newUser();
    JsonNode doomedMemory = add(doomed, "FACT", "a");
    http.put(profile(doomed), "{\"content\":\"likes tea\"}");
    JsonNode otherMemory = add(other, "FACT", "b");
    http.put(profile(other), "{\"content\":\"likes coffee\"}");

    assertThat(http.delete(user(doomed)).status()).isEqualTo(204);

    assertError(http.get(memories(doomed)), 404, "not_found");
    assertError(http.get(memory(doomed, doomedMemory)), 404, "not_found");
    assertError(http.get(profile(doomed)), 404, "not_found");
    assertError(http.delete(user(doomed)), 404, "not_found");
    assertThat(http.get(memory(other, otherMemory)).json()).isEqualTo(otherMemory);
    assertThat(http.get(profile(other)).json().get("content").asText()).isEqualTo("likes coffee");
  }

  @Test
  void profile_putThenGetWithOptimisticVersions() {
    String user = newUser();
    assertError(http.get(profile(user)), 404, "not_found");

    Http.Response first = http.put(profile(user), "{\"content\":\"Ali, 34, teacher in Karachi\"}");
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.json().get("version").asLong()).isEqualTo(1);
    assertThat(first.json().get("userId").asText()).isEqualTo(user);
    assertThat(Instant.parse(first.json().get("updatedAt").asText())).isNotNull();

    Http.Response second = http.put(profile(user), "{\"content\":\"Ali, 34, teaches maths\",\"expectedVersion\":1}");
    assertThat(second.json().get("version").asLong()).isEqualTo(2);

    Http.Response stale = http.put(profile(user), "{\"content\":\"stale\",\"expectedVersion\":1}");
    assertError(stale, 409, "conflict");
    assertThat(stale.json().get("message").asText()).contains("version 2");

    JsonNode current = http.get(profile(user)).json();
    assertThat(current.get("content").asText()).isEqualTo("Ali, 34, teaches maths");
    assertThat(current.get("version").asLong()).isEqualTo(2);
  }

  @Test
  void profile_expectedVersionZero_createsOnlyWhenAbsent() {
    String user = newUser();
    assertThat(http.put(profile(user), "{\"content\":\"first\",\"expectedVersion\":0}").status()).isEqualTo(200);
    assertError(http.put(profile(user), "{\"content\":\"second\",\"expectedVersion\":0}"), 409, "conflict");
  }

  @Test
  void profile_ofUserWithMemoriesButNoProfile_isVersionZero() {
    String user = newUser();
    add(user, "FACT", "x");
    JsonNode p = http.get(profile(user)).json();
    assertThat(p.get("version").asLong()).isZero();
    assertThat(p.get("content").isNull()).isTrue();
    assertThat(p.get("updatedAt").isNull()).isTrue();
  }

  @Test
  void snapshot_returnsProfileAndNewestPerCategoryInRequestedOrder() {
    String user = newUser();
    List<String> facts = ids(addBatch(user, "FACT", 3));
    List<String> goals = ids(addBatch(user, "GOAL", 2));
    addBatch(user, "PLAN", 1);
    http.put(profile(user), "{\"content\":\"Ali likes tea\"}");

    Http.Response response = http.get(user(user) + "/snapshot?categories=goal,FACT,OPINION&perCategory=2");
    assertThat(response.status()).isEqualTo(200);
    JsonNode s = response.json();
    assertThat(s.get("userId").asText()).isEqualTo(user);
    assertThat(s.get("profile").get("content").asText()).isEqualTo("Ali likes tea");
    assertThat(s.get("profile").get("version").asLong()).isEqualTo(1);
    List<String> keys = new ArrayList<>();
    s.get("memories").fieldNames().forEachRemaining(keys::add);
    assertThat(keys).containsExactly("GOAL", "FACT", "OPINION");
    assertThat(s.get("memories").get("FACT").findValuesAsText("id")).containsExactly(facts.get(2), facts.get(1));
    assertThat(s.get("memories").get("GOAL").findValuesAsText("id")).containsExactly(goals.get(1), goals.get(0));
    assertThat(s.get("memories").get("OPINION").size()).isZero();

    JsonNode everything = http.get(user(user) + "/snapshot").json();
    List<String> all = new ArrayList<>();
    everything.get("memories").fieldNames().forEachRemaining(all::add);
    assertThat(all).containsExactlyElementsOf(dev.yaad.memory.Categories.DEFAULT_NAMES);
    assertThat(everything.get("memories").get("FACT").size()).isEqualTo(3);
  }

  @Test
  void snapshot_ofUserWithoutProfile_hasVersionZeroProfile() {
    String user = newUser();
    add(user, "FACT", "x");
    JsonNode s = http.get(user(user) + "/snapshot?categories=FACT").json();
    assertThat(s.get("profile").get("version").asLong()).isZero();
    assertThat(s.get("memories").get("FACT").size()).isEqualTo(1);
  }

  @Test
  void parallelWriters_forOneUser_loseNothing() throws Exception {
    String user = newUser();
    int writers = 8;
    int each = 5;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      List<Future<List<String>>> results = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        results.add(pool.submit(() -> {
          List<String> refused = new ArrayList<>();
          for (int i = 0; i < each; i++) {
            var response = http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"w" + writer + "-" + i + "\"}");
            if (response.status() != 201) {
              refused.add("w" + writer + "-" + i + ": " + response.status() + " " + response.body());
            }
          }
          return refused;
        }));
      }
      List<String> refused = new ArrayList<>();
      for (Future<List<String>> result : results) {
        refused.addAll(result.get());
      }
      assertThat(refused).as("writes not answered 201 (status and body)").isEmpty();
    } finally {
      pool.shutdownNow();
    }
    JsonNode page = http.get(memories(user) + "?limit=100").json();
    Set<String> contents = new HashSet<>(page.get("items").findValuesAsText("content"));
    assertThat(contents).hasSize(writers * each);
  }

  // --- isolation ---------------------------------------------------------------------------

  @Test
  void anotherUser_cannotReadChangeOrDeleteAMemory() {
    String owner = newUser();
    String intruder = newUser();
    JsonNode mine = add(owner, "FACT", "my secret");
    add(intruder, "FACT", "their own");
    String stolenPath = memories(intruder) + "/" + mine.get("id").asText();

    assertError(http.get(stolenPath), 404, "not_found");
    assertError(http.patch(stolenPath, "{\"content\":\"overwritten\"}"), 404, "not_found");
    assertError(http.delete(stolenPath), 404, "not_found");

    assertThat(http.get(memory(owner, mine)).json()).isEqualTo(mine);
    assertThat(http.get(memories(intruder)).json().get("items").findValuesAsText("content")).containsExactly("their own");
    assertThat(http.get(memories(owner)).json().get("items").findValuesAsText("content")).containsExactly("my secret");
  }

  // --- batch: all or nothing ---------------------------------------------------------------

  @Test
  void batch_withOneInvalidMemory_writesNothing() {
    String user = newUser();
    JsonNode existing = add(user, "FACT", "already here");

    Http.Response rejected = http.post(batch(user), """
        {"memories":[
          {"category":"GOAL","content":"fine"},
          {"category":"GOAL","content":"   "},
          {"category":"GOAL","content":"also fine"}]}""");
    assertError(rejected, 400, "invalid_input");
    assertThat(rejected.json().get("message").asText()).contains("memories[1]");

    Http.Response unknownCategory = http.post(batch(user),
        "{\"memories\":[{\"category\":\"GOAL\",\"content\":\"ok\"},{\"category\":\"NOPE\",\"content\":\"x\"}]}");
    assertError(unknownCategory, 400, "invalid_input");
    assertThat(unknownCategory.json().get("message").asText()).contains("memories[1]", "NOPE");

    Http.Response wrongType = http.post(batch(user),
        "{\"memories\":[{\"category\":\"GOAL\",\"content\":\"ok\"},{\"category\":\"GOAL\",\"content\":\"ok\"},{\"category\":\"GOAL\",\"content\":7}]}");
    assertError(wrongType, 400, "invalid_input");
    assertThat(wrongType.json().get("message").asText()).contains("memories[2].content");

    Http.Response tooLong = http.post(batch(user),
        "{\"memories\":[{\"category\":\"GOAL\",\"content\":\"ok\"},{\"category\":\"GOAL\",\"content\":\"" + "x".repeat(Limits.MAX_CONTENT_BYTES + 1) + "\"}]}");
    assertError(tooLong, 413, "too_large");

    JsonNode items = http.get(memories(user)).json().get("items");
    assertThat(items.size()).isEqualTo(1);
    assertThat(items.get(0)).isEqualTo(existing);
  }

  @Test
  void batch_forNewUser_thatFails_createsNoUser() {
    String user = newUser();
    assertError(http.post(batch(user), "{\"memories\":[{\"category\":\"GOAL\",\"content\":\"ok\"},{\"category\":\"GOAL\"}]}"),
        400, "invalid_input");
    assertError(http.get(memories(user)), 404, "not_found");
  }

  @Test
  void batch_overTheSizeLimit_is413AndEmpty_is400() {
    String user = newUser();
    ArrayNode list = JsonBody.JSON.createArrayNode();
    for (int i = 0; i <= Limits.MAX_BATCH_SIZE; i++) {
      list.addObject().put("category", "FACT").put("content", "m" + i);
    }
    ObjectNode body = JsonBody.JSON.createObjectNode().set("memories", list);
    Http.Response tooMany = http.post(batch(user), body.toString());
    assertError(tooMany, 413, "too_large");
    assertThat(tooMany.json().get("message").asText()).contains(String.valueOf(Limits.MAX_BATCH_SIZE));

    assertError(http.post(batch(user), "{\"memories\":[]}"), 400, "invalid_input");
    assertError(http.post(batch(user), "{\"memories\":{}}"), 400, "invalid_input");
    assertError(http.post(batch(user), "{\"memories\":[\"x\"]}"), 400, "invalid_input");
    assertError(http.post(batch(user), "{}"), 400, "invalid_input");
    assertError(http.get(memories(user)), 404, "not_found");
  }

  @Test
  void batchRoute_isTheLiteralColonSegment() {
    String user = newUser();
    add(user, "FACT", "x");
    assertError(http.get(batch(user)), 405, "method_not_allowed");
    assertError(http.post(memories(user) + "Xbatch", "{\"memories\":[]}"), 404, "not_found");
    assertError(http.post(memories(user) + ":batches", "{\"memories\":[]}"), 404, "not_found");
    // a ':batch' after a slash is a memory id, and not a valid one
    assertError(http.get(memories(user) + "/:batch"), 400, "invalid_input");
  }

  // --- errors ------------------------------------------------------------------------------

  @Test
  void bodyWithoutJsonContentType_is415() {
    String user = newUser();
    String body = "{\"category\":\"FACT\",\"content\":\"x\"}";
    assertError(http.send("POST", memories(user), "text/plain", body), 415, "unsupported_media_type");
    assertError(http.send("POST", memories(user), null, body), 415, "unsupported_media_type");
    assertError(http.send("POST", memories(user), "application/x-www-form-urlencoded", body), 415, "unsupported_media_type");
    assertError(http.send("POST", batch(user), "text/json", "{\"memories\":[]}"), 415, "unsupported_media_type");
    assertError(http.send("PUT", profile(user), "application/json; charset=ISO-8859-1", "{\"content\":\"x\"}"), 415, "unsupported_media_type");
    assertThat(http.send("POST", memories(user), "Application/JSON; charset=UTF-8", body).status()).isEqualTo(201);

    JsonNode m = add(user, "FACT", "x");
    assertError(http.send("PATCH", memory(user, m), "text/plain", "{\"content\":\"y\"}"), 415, "unsupported_media_type");
  }

  @Test
  void bodyOverTheLimit_is413_withOrWithoutContentLength() {
    String user = newUser();
    byte[] big = ("{\"category\":\"FACT\",\"content\":\"" + "a".repeat((int) MemoryApi.DEFAULT_MAX_BODY_BYTES) + "\"}")
        .getBytes(StandardCharsets.UTF_8);

    Http.Response declared = http.send("POST", memories(user), Http.JSON,
        java.net.http.HttpRequest.BodyPublishers.ofByteArray(big));
    assertError(declared, 413, "too_large");
    assertThat(declared.json().get("message").asText()).contains(String.valueOf(MemoryApi.DEFAULT_MAX_BODY_BYTES));

    assertError(http.sendChunked("POST", memories(user), Http.JSON, big), 413, "too_large");
    assertError(http.get(memories(user)), 404, "not_found");
  }

  @Test
  void malformedBodies_are400() {
    String user = newUser();
    assertError(http.post(memories(user), "{\"category\":\"FACT\","), 400, "invalid_input");
    assertError(http.post(memories(user), "not json"), 400, "invalid_input");
    assertError(http.post(memories(user), ""), 400, "invalid_input");
    assertError(http.post(memories(user), "[]"), 400, "invalid_input");
    assertError(http.post(memories(user), "\"text\""), 400, "invalid_input");
    assertError(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\"} {}"), 400, "invalid_input");
    Http.Response duplicate = http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"content\":\"y\"}");
    assertError(duplicate, 400, "invalid_input");
    assertThat(duplicate.json().get("message").asText()).contains("content");
    assertError(http.get(memories(user)), 404, "not_found");
  }

  @Test
  void fieldErrors_nameTheField() {
    String user = newUser();
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"colour\":\"red\"}"), 400, "unknown field 'colour'");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":5}"), 400, "field 'content' must be a string");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\"}"), 400, "field 'content' is required");
    assertMessage(http.post(memories(user), "{\"content\":\"x\"}"), 400, "field 'category' is required");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"metadata\":\"{}\"}"), 400, "field 'metadata' must be a JSON object");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"metadata\":[1]}"), 400, "field 'metadata' must be a JSON object");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"occurredAt\":\"yesterday\"}"), 400, "field 'occurredAt' must be an ISO-8601");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"occurredAt\":\"2024-01-01\"}"), 400, "field 'occurredAt'");
    assertMessage(http.post(memories(user), "{\"category\":\"WISH\",\"content\":\"x\"}"), 400, "unknown category 'WISH'");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"\"}"), 400, "content must not be empty");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"" + "ب".repeat(Limits.MAX_CONTENT_BYTES / 2 + 1) + "\"}"),
        413, String.valueOf(Limits.MAX_CONTENT_BYTES));
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"metadata\":{\"k\":\"" + "v".repeat(Limits.MAX_METADATA_BYTES) + "\"}}"),
        413, String.valueOf(Limits.MAX_METADATA_BYTES));
    assertMessage(http.put(profile(user), "{\"content\":\"x\",\"expectedVersion\":\"1\"}"), 400, "field 'expectedVersion' must be a whole number");
    assertMessage(http.put(profile(user), "{\"content\":\"x\",\"version\":1}"), 400, "unknown field 'version'");
    assertMessage(http.put(profile(user), "{\"content\":\"x\",\"expectedVersion\":-1}"), 400, "expectedVersion");
    assertError(http.get(memories(user)), 404, "not_found");

    JsonNode m = add(user, "FACT", "x");
    assertMessage(http.patch(memory(user, m), "{}"), 400, "at least one");
    assertMessage(http.patch(memory(user, m), "{\"content\":null}"), 400, "field 'content' must be a string");
    assertMessage(http.patch(memory(user, m), "{\"occurredAt\":null}"), 400, "field 'occurredAt' cannot be null");
    assertMessage(http.patch(memory(user, m), "{\"id\":\"other\"}"), 400, "unknown field 'id'");
    assertThat(http.get(memory(user, m)).json()).isEqualTo(m);
  }

  @Test
  void badQueryParameters_are400() {
    String user = newUser();
    add(user, "FACT", "x");
    assertMessage(http.get(memories(user) + "?limit=0"), 400, "limit");
    assertMessage(http.get(memories(user) + "?limit=" + (Limits.MAX_PAGE_SIZE + 1)), 400, String.valueOf(Limits.MAX_PAGE_SIZE));
    assertMessage(http.get(memories(user) + "?limit=ten"), 400, "query parameter 'limit' must be a whole number");
    assertMessage(http.get(memories(user) + "?cursor=bm90LWEtY3Vyc29y"), 400, "malformed cursor");
    assertMessage(http.get(memories(user) + "?category=WISH"), 400, "unknown category");
    assertMessage(http.get(user(user) + "/snapshot?perCategory=0"), 400, "perCategory");
    assertMessage(http.get(user(user) + "/snapshot?perCategory=" + (Limits.MAX_PER_CATEGORY + 1)), 400, String.valueOf(Limits.MAX_PER_CATEGORY));
    assertMessage(http.get(user(user) + "/snapshot?perCategory=many"), 400, "query parameter 'perCategory'");
    assertMessage(http.get(user(user) + "/snapshot?categories=FACT,WISH"), 400, "unknown category 'WISH'");
    // A parameter that cannot be decoded is refused, not read as absent.
    assertError(http.rawGet(memories(user) + "?cursor=%zz"), 400, "invalid_input");
    assertThat(http.rawGet(memories(user) + "?limit=5&cursor=%2").json().get("message").asText()).contains("malformed %-escape");
    // Case folds for ASCII only: a dotless i does not make "interest".
    assertMessage(http.get(memories(user) + "?category=%C4%B1nterest"), 400, "unknown category");
    assertMessage(http.post(memories(user), "{\"category\":\"\u0131nterest\",\"content\":\"x\"}"), 400, "unknown category");
    assertThat(http.get(memories(user) + "?category=interest").status()).isEqualTo(200);
  }

  @Test
  void loneSurrogates_are400_andNothingIsStored() {
    String user = newUser();
    // JSON escapes can name half of a UTF-16 pair; it has no UTF-8 form (it used to be stored as '?').
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"tea \\ud83c\"}"), 400, "lone UTF-16 surrogate");
    assertMessage(http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"metadata\":{\"k\":\"\\udc00\"}}"),
        400, "metadata contains a lone UTF-16 surrogate");
    assertMessage(http.post(memories(user) + ":batch", "{\"memories\":[{\"category\":\"FACT\",\"content\":\"ok\"},"
        + "{\"category\":\"FACT\",\"content\":\"\\ud800\"}]}"), 400, "lone UTF-16 surrogate");
    assertMessage(http.put(profile(user), "{\"content\":\"\\udfff\"}"), 400, "lone UTF-16 surrogate");
    assertError(http.get(memories(user)), 404, "not_found");
    JsonNode pair = add(user, "FACT", "tea \uD83C\uDF75");
    assertThat(http.get(memory(user, pair)).json().get("content").asText()).isEqualTo("tea 🍵");
  }

  @Test
  void deeplyNestedJson_is400_notA500() {
    String user = newUser();
    String deep = "[".repeat(5000) + "]".repeat(5000);
    Http.Response response = http.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\",\"metadata\":{\"k\":" + deep + "}}");
    assertError(response, 400, "invalid_input");
    assertThat(response.json().get("message").asText()).contains("not valid JSON", "nesting depth");
    assertError(http.post(user(user) + "/search", "{\"query\":" + deep + "}"), 400, "invalid_input");
  }

  @Test
  void malformedIds_are400() {
    String user = newUser();
    add(user, "FACT", "x");
    assertMessage(http.get(memories(user) + "/not-a-uuid"), 400, "malformed memory id 'not-a-uuid'");
    assertMessage(http.patch(memories(user) + "/123", "{\"content\":\"y\"}"), 400, "malformed memory id");
    assertMessage(http.delete(memories(user) + "/123"), 400, "malformed memory id");
    assertMessage(http.get("/api/v1/users/-leading-dash/memories"), 400, "malformed user id");
    assertMessage(http.get("/api/v1/users/has%20space/profile"), 400, "malformed user id 'has space'");
    assertMessage(http.post("/api/v1/users/" + "u".repeat(Limits.MAX_USER_ID_LENGTH + 1) + "/memories",
        "{\"category\":\"FACT\",\"content\":\"x\"}"), 400, "malformed user id");
    assertError(http.rawGet(memories(user) + "/%zz"), 400, "invalid_input");
    assertMessage(http.get("/api/v1/users/a%2Fb/profile"), 400, "malformed user id 'a/b'");
  }

  @Test
  void oversizedHeaders_getAJsonError() {
    Http.Response response = http.send("GET", "/health", "application/json; x=" + "y".repeat(20_000), (String) null);
    assertError(response, 431, "too_large");
  }

  /** A first-time caller's snapshot is empty, not a 404 (the page's first visit, a companion's first greeting). */
  @Test
  void snapshot_ofAnUnknownUser_isEmpty_butStillValidated() {
    String nobody = newUser();
    Http.Response response = http.get(user(nobody) + "/snapshot?categories=goal,FACT");
    assertThat(response.status()).isEqualTo(200);
    JsonNode s = response.json();
    assertThat(s.get("profile").get("version").asLong()).isZero();
    assertThat(s.get("profile").get("content").isNull()).isTrue();
    assertThat(s.get("memories").fieldNames()).toIterable().containsExactly("GOAL", "FACT");
    assertThat(http.get(user(nobody) + "/snapshot").json().get("memories").size()).isEqualTo(8);
    assertMessage(http.get(user(nobody) + "/snapshot?categories=WISH"), 400, "unknown category 'WISH'");
    assertError(http.get(profile(nobody)), 404, "not_found"); // still unknown: nothing was created
  }

  @Test
  void unknownUsersAndMemories_are404() {
    String nobody = newUser();
    assertError(http.get(memories(nobody)), 404, "not_found");
    assertError(http.get(profile(nobody)), 404, "not_found");
    assertError(http.delete(user(nobody)), 404, "not_found");
    String user = newUser();
    add(user, "FACT", "x");
    String unknown = memories(user) + "/" + UUID.randomUUID();
    assertError(http.get(unknown), 404, "not_found");
    assertError(http.patch(unknown, "{\"content\":\"y\"}"), 404, "not_found");
    assertError(http.delete(unknown), 404, "not_found");
  }

  @Test
  void unknownRoutesAndMethods_getJsonErrors() {
    assertMessage(http.get("/nope"), 404, "no such endpoint: GET /nope");
    assertError(http.get("/api/v1/users"), 404, "not_found");
    assertError(http.get("/api/v2/users/u1/memories"), 404, "not_found");
    Http.Response wrongMethod = http.send("PUT", memories("u1"), Http.JSON, "{}");
    assertError(wrongMethod, 405, "method_not_allowed");
    assertThat(wrongMethod.header("Allow")).contains("GET", "POST");
  }

  @Test
  void unexpectedFailure_is500WithoutDetails() throws Exception {
    String user = newUser();
    JsonNode m = add(user, "FACT", "soon damaged");
    // Damage the row behind the store's back: its metadata is no longer JSON.
    try (Connection c = DriverManager.getConnection(database.jdbcUrl(), database.username(), database.password());
        PreparedStatement ps = c.prepareStatement("UPDATE " + table(database, "memories") + " SET metadata = ? WHERE user_id = ?")) {
      ps.setString(1, "{broken");
      ps.setString(2, user);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }

    try (ExpectedLog log = ExpectedLog.of(ApiErrors.class)) {
      Http.Response response = http.get(memory(user, m));
      assertError(response, 500, "internal");
      assertThat(response.body())
          .isEqualTo("{\"error\":\"internal\",\"message\":\"internal server error; the server log has the details\"}")
          .doesNotContain("Exception", "at dev.", "broken", m.get("id").asText());
      // The details went to the log, with the stack trace an unexpected failure deserves.
      assertThat(log.events()).anySatisfy(e -> {
        assertThat(e.getFormattedMessage()).contains("failed unexpectedly");
        assertThat(e.getThrowableProxy()).isNotNull();
      });
    }
  }

  @Test
  void brokenSchema_is500WithNoDatabaseDetails() throws Exception {
    StoreConfig failing = trackedDatabase();
    Http doomed = new Http(start(failing).port());
    String user = newUser();
    assertThat(doomed.post(memories(user), "{\"category\":\"FACT\",\"content\":\"x\"}").status()).isEqualTo(201);
    try (Connection c = DriverManager.getConnection(failing.jdbcUrl(), failing.username(), failing.password());
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE " + table(failing, "memories"));
    }

    try (ExpectedLog log = ExpectedLog.of(ApiErrors.class)) {
      Http.Response response = doomed.get(memories(user));
      assertError(response, 500, "internal");
      assertThat(response.header("Retry-After")).isNull();
      assertThat(response.json().get("message").asText()).doesNotContainIgnoringCase("sql").doesNotContain("memories");
      assertThat(log.events()).anySatisfy(e -> assertThat(e.getThrowableProxy()).isNotNull());
    }
  }

  @Test
  void unreachableStore_is503WithRetryAfterAndNoDatabaseDetails() {
    Memories store = Memories.builder().store(trackedDatabase()).build();
    Javalin app = MemoryApi.app(store, MemoryApi.DEFAULT_MAX_BODY_BYTES).start("127.0.0.1", 0);
    try {
      store.close(); // every later request finds no database connection
      Http.Response response = new Http(app.port()).get(memories(newUser()));
      assertError(response, 503, "unavailable");
      assertThat(response.header("Retry-After")).isEqualTo(ApiErrors.RETRY_AFTER_SECONDS);
      assertThat(response.json().get("message").asText()).doesNotContainIgnoringCase("sql").doesNotContainIgnoringCase("hikari");
    } finally {
      app.stop();
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  static String newUser() {
    return "user-" + UUID.randomUUID().toString().substring(0, 13);
  }

  static String user(String userId) {
    return "/api/v1/users/" + userId;
  }

  static String memories(String userId) {
    return user(userId) + "/memories";
  }

  static String batch(String userId) {
    return memories(userId) + ":batch";
  }

  static String memory(String userId, JsonNode memory) {
    return memories(userId) + "/" + memory.get("id").asText();
  }

  static String profile(String userId) {
    return user(userId) + "/profile";
  }

  private static String table(StoreConfig config, String table) {
    return config.schema() == null ? table : config.schema() + "." + table;
  }

  JsonNode add(String userId, String category, String content) {
    ObjectNode body = JsonBody.JSON.createObjectNode().put("category", category).put("content", content);
    Http.Response response = http.post(memories(userId), body.toString());
    assertThat(response.status()).as(response.body()).isEqualTo(201);
    return response.json();
  }

  /** Adds {@code count} memories in one batch; the result is oldest first. */
  JsonNode addBatch(String userId, String category, int count) {
    ArrayNode list = JsonBody.JSON.createArrayNode();
    for (int i = 0; i < count; i++) {
      list.addObject().put("category", category).put("content", category.toLowerCase() + " " + i);
    }
    Http.Response response = http.post(batch(userId), JsonBody.JSON.createObjectNode().set("memories", list).toString());
    assertThat(response.status()).as(response.body()).isEqualTo(201);
    return response.json().get("items");
  }

  static List<String> ids(JsonNode items) {
    return items.findValuesAsText("id");
  }

  /** The response is the API's error shape, exactly {error, message}, with this status and code. */
  static void assertError(Http.Response response, int status, String error) {
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.header("Content-Type")).startsWith("application/json");
    JsonNode body = response.json();
    List<String> fields = new ArrayList<>();
    body.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("error", "message");
    assertThat(body.get("error").asText()).isEqualTo(error);
    assertThat(body.get("message").asText()).isNotBlank();
  }

  static void assertMessage(Http.Response response, int status, String messagePart) {
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.json().get("message").asText()).contains(messagePart);
  }
}
