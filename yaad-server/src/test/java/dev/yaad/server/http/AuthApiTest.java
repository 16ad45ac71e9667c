package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.memory.Memories;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.auth.Authenticator;
import dev.yaad.server.auth.SessionTokens;
import dev.yaad.server.ops.Metrics;
import dev.yaad.server.ops.Readiness;
import io.javalin.Javalin;
import io.javalin.http.HandlerType;
import io.javalin.router.Endpoint;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Authentication and isolation over real HTTP with authentication on. The isolation tests
 * walk every route the app has registered (not a hand-written list), so a route added
 * later is covered without touching this class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthApiTest {
  static final String API_KEY = "test-admin-key-0123456789abcdef";
  static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256!";
  private static final Set<HandlerType> METHODS =
      EnumSet.of(HandlerType.GET, HandlerType.POST, HandlerType.PUT, HandlerType.PATCH, HandlerType.DELETE);

  private final AuthConfig auth = AuthConfig.of(API_KEY, SECRET);
  private Memories store;
  private Metrics metrics;
  private Javalin app;
  private Http anonymous;
  private Http admin;
  private Http alice;
  private String bobMemory;

  @BeforeAll
  void start() throws Exception {
    store = Memories.builder().store(TestStores.h2(Files.createTempDirectory("yaad-auth"))).build();
    metrics = new Metrics();
    app = HttpApp.create(new HttpApp.Setup(store, MemoryApi.DEFAULT_MAX_BODY_BYTES, new Authenticator(auth), metrics,
        new Readiness(Readiness.DEFAULT_TIMEOUT).add("database", Readiness.sql(store.dataSource())), false, null));
    app.start("127.0.0.1", 0);
    anonymous = new Http(app.port());
    admin = anonymous.as(API_KEY);
    alice = anonymous.as(issue("alice"));
  }

  @AfterAll
  void stop() {
    app.stop();
    store.close();
    metrics.close();
  }

  private String issue(String userId) {
    Http.Response response = admin.post("/api/v1/tokens", "{\"userId\":\"" + userId + "\",\"ttlSeconds\":600}");
    assertThat(response.status()).as(response.body()).isEqualTo(201);
    return response.json().get("token").asText();
  }

  /** A fresh memory of bob's, made with the API key. */
  private String bobsMemory() {
    Http.Response created = admin.post("/api/v1/users/bob/memories", "{\"category\":\"FACT\",\"content\":\"bob's secret\"}");
    assertThat(created.status()).isEqualTo(201);
    return created.json().get("id").asText();
  }

  private List<Endpoint> routes() {
    List<Endpoint> routes = new ArrayList<>();
    app.unsafeConfig().pvt.internalRouter.allHttpHandlers().forEach(p -> {
      if (METHODS.contains(p.getEndpoint().getMethod())) {
        routes.add(p.getEndpoint());
      }
    });
    return routes;
  }

  private static boolean isPublic(Endpoint e) {
    return e.getRoles().contains(dev.yaad.server.auth.Access.Role.PUBLIC);
  }

  private static String body(Endpoint e) {
    String path = e.getPath();
    if (path.endsWith("/tokens")) {
      return "{\"userId\":\"bob\"}";
    } else if (path.endsWith(":batch")) {
      return "{\"memories\":[{\"category\":\"FACT\",\"content\":\"planted\"}]}";
    } else if (path.endsWith("/profile")) {
      return "{\"content\":\"planted\"}";
    } else if (path.endsWith("/search")) {
      return "{\"query\":\"planted\"}";
    } else if (e.getMethod() == HandlerType.PATCH) {
      return "{\"content\":\"changed\"}";
    }
    return "{\"category\":\"FACT\",\"content\":\"planted\"}";
  }

  private Http.Response call(Http http, Endpoint e, String userId, String memoryId) {
    String path = e.getPath().replace("{userId}", userId).replace("{id}", memoryId);
    boolean hasBody = e.getMethod() == HandlerType.POST || e.getMethod() == HandlerType.PUT || e.getMethod() == HandlerType.PATCH;
    return http.send(e.getMethod().name(), path, hasBody ? Http.JSON : null, hasBody ? body(e) : null);
  }

  // --- isolation -----------------------------------------------------------------------------

  @Test
  void everyUserRoute_withAnotherUsersToken_is403AndChangesNothing() {
    String memory = bobsMemory();
    admin.put("/api/v1/users/bob/profile", "{\"content\":\"bob's profile\"}");
    String before = admin.get("/api/v1/users/bob/snapshot").body();
    List<String> checked = new ArrayList<>();
    for (Endpoint e : routes()) {
      if (!e.getPath().contains("{userId}")) {
        continue;
      }
      // bob exists; carol does not: the answer must not tell the two apart.
      for (String victim : List.of("bob", "carol")) {
        Http.Response response = call(alice, e, victim, memory);
        assertThat(response.status()).as(e.getMethod() + " " + e.getPath() + " for " + victim + ": " + response.body()).isEqualTo(403);
        assertThat(response.json().get("error").asText()).isEqualTo("forbidden");
        assertThat(response.body()).doesNotContain("bob's");
      }
      checked.add(e.getMethod() + " " + e.getPath());
    }
    assertThat(checked).hasSizeGreaterThanOrEqualTo(10).contains(
        "POST /api/v1/users/{userId}/memories", "GET /api/v1/users/{userId}/memories",
        "POST /api/v1/users/{userId}/memories:batch", "GET /api/v1/users/{userId}/memories/{id}",
        "PATCH /api/v1/users/{userId}/memories/{id}", "DELETE /api/v1/users/{userId}/memories/{id}",
        "DELETE /api/v1/users/{userId}", "GET /api/v1/users/{userId}/profile", "PUT /api/v1/users/{userId}/profile",
        "GET /api/v1/users/{userId}/snapshot", "POST /api/v1/users/{userId}/search");
    assertThat(admin.get("/api/v1/users/bob/snapshot").body()).isEqualTo(before);
    assertThat(admin.get("/api/v1/users/carol/profile").status()).isEqualTo(404);
  }

  @Test
  void everyUserRoute_withTheUsersOwnToken_isLetIn() {
    for (Endpoint e : routes()) {
      if (!e.getPath().contains("{userId}") || e.getMethod() == HandlerType.DELETE) {
        continue;
      }
      String own = alice.post("/api/v1/users/alice/memories", "{\"category\":\"GOAL\",\"content\":\"run\"}").json().get("id").asText();
      Http.Response response = call(alice, e, "alice", own);
      assertThat(response.status()).as(e.getMethod() + " " + e.getPath() + ": " + response.body()).isBetween(200, 299);
    }
    String own = alice.post("/api/v1/users/alice/memories", "{\"category\":\"GOAL\",\"content\":\"swim\"}").json().get("id").asText();
    assertThat(alice.delete("/api/v1/users/alice/memories/" + own).status()).isEqualTo(204);
  }

  @Test
  void ownToken_withAnotherUsersMemoryIdUnderItsOwnPath_isNotFound() {
    String memory = bobsMemory();
    alice.put("/api/v1/users/alice/profile", "{\"content\":\"alice\"}");
    assertThat(alice.get("/api/v1/users/alice/memories/" + memory).status()).isEqualTo(404);
    assertThat(alice.delete("/api/v1/users/alice/memories/" + memory).status()).isEqualTo(404);
    assertThat(admin.get("/api/v1/users/bob/memories/" + memory).status()).isEqualTo(200);
  }

  @Test
  void everyProtectedRoute_withoutCredentials_is401WithAChallenge() {
    String memory = bobsMemory();
    for (Endpoint e : routes()) {
      if (isPublic(e)) {
        continue;
      }
      Http.Response response = call(anonymous, e, "bob", memory);
      assertThat(response.status()).as(e.getMethod() + " " + e.getPath()).isEqualTo(401);
      assertThat(response.json().get("error").asText()).isEqualTo("unauthorized");
      assertThat(response.header("WWW-Authenticate")).startsWith("Bearer");
    }
    assertThat(admin.get("/api/v1/users/bob/memories/" + memory).status()).isEqualTo(200);
  }

  @Test
  void adminRoutes_withASessionToken_are403() {
    for (Endpoint e : routes()) {
      if (isPublic(e) || e.getPath().contains("{userId}")) {
        continue;
      }
      Http.Response response = call(alice, e, "alice", "x");
      assertThat(response.status()).as(e.getMethod() + " " + e.getPath()).isEqualTo(403);
    }
    assertThat(alice.get("/metrics").status()).isEqualTo(403);
    assertThat(alice.post("/api/v1/tokens", "{\"userId\":\"bob\"}").status()).isEqualTo(403);
  }

  @Test
  void apiKey_mayActOnAnyUser() {
    String memory = bobsMemory();
    assertThat(admin.get("/api/v1/users/bob/memories/" + memory).status()).isEqualTo(200);
    assertThat(admin.get("/metrics").status()).isEqualTo(200);
    assertThat(admin.get("/metrics").header("Content-Type")).startsWith("text/plain");
  }

  @Test
  void publicRoutes_needNoCredentials() {
    assertThat(anonymous.get("/health").status()).isEqualTo(200);
    assertThat(anonymous.get("/ready").status()).isEqualTo(200);
    assertThat(anonymous.get("/").status()).isEqualTo(200);
    assertThat(anonymous.get("/app.js").status()).isEqualTo(200);
    JsonNode config = anonymous.get("/api/v1/config").json();
    assertThat(config.get("authRequired").asBoolean()).isTrue();
  }

  // --- bad credentials -------------------------------------------------------------------------

  @Test
  void badCredentials_are401() {
    assertThat(anonymous.as("not-the-admin-key-0123456789").get("/api/v1/users/bob/profile").status()).isEqualTo(401);
    assertThat(anonymous.withAuthorization("Basic YWRtaW46YWRtaW4=").get("/api/v1/users/bob/profile").status()).isEqualTo(401);

    AuthConfig otherSecret = AuthConfig.of(null, "another-secret-that-is-long-enough-for-hs256");
    String forged = new SessionTokens(otherSecret, Clock.systemUTC()).issue("bob", Duration.ofMinutes(5)).token();
    Http.Response response = anonymous.as(forged).get("/api/v1/users/bob/profile");
    assertThat(response.status()).isEqualTo(401);
    assertThat(response.body()).doesNotContain(forged);

    Clock anHourAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
    String expired = new SessionTokens(auth, anHourAgo).issue("bob", Duration.ofMinutes(5)).token();
    Http.Response late = anonymous.as(expired).get("/api/v1/users/bob/profile");
    assertThat(late.status()).isEqualTo(401);
    assertThat(late.json().get("message").asText()).contains("expired");

    String valid = issue("bob");
    String tampered = valid.substring(0, valid.length() - 3) + (valid.endsWith("AAA") ? "BBB" : "AAA");
    assertThat(anonymous.as(tampered).get("/api/v1/users/bob/profile").status()).isEqualTo(401);
  }

  // --- issuing tokens --------------------------------------------------------------------------

  @Test
  void issueToken_bindsTheUserAndExpiresAsAsked() {
    Instant before = Instant.now();
    Http.Response response = admin.post("/api/v1/tokens", "{\"userId\":\"dana@example.com\",\"ttlSeconds\":120}");
    assertThat(response.status()).isEqualTo(201);
    JsonNode body = response.json();
    assertThat(body.get("userId").asText()).isEqualTo("dana@example.com");
    Instant expires = Instant.parse(body.get("expiresAt").asText());
    assertThat(expires).isBetween(before.plusSeconds(118), before.plusSeconds(122));
    Http dana = anonymous.as(body.get("token").asText());
    assertThat(dana.put("/api/v1/users/dana@example.com/profile", "{\"content\":\"hi\"}").status()).isEqualTo(200);
    assertThat(dana.get("/api/v1/users/bob/profile").status()).isEqualTo(403);
  }

  @Test
  void issueToken_rejectsBadInput() {
    assertThat(admin.post("/api/v1/tokens", "{}").status()).isEqualTo(400);
    assertThat(admin.post("/api/v1/tokens", "{\"userId\":\"no spaces\"}").json().get("message").asText()).contains("userId");
    assertThat(admin.post("/api/v1/tokens", "{\"userId\":\"u\",\"ttlSeconds\":5}").json().get("message").asText()).contains("ttlSeconds");
    assertThat(admin.post("/api/v1/tokens", "{\"userId\":\"u\",\"ttlSeconds\":100000}").status()).isEqualTo(400);
    assertThat(admin.post("/api/v1/tokens", "{\"userId\":\"u\",\"colour\":1}").status()).isEqualTo(400);
    Http.Response defaults = admin.post("/api/v1/tokens", "{\"userId\":\"u\"}");
    assertThat(Instant.parse(defaults.json().get("expiresAt").asText()))
        .isBetween(Instant.now().plus(AuthConfig.DEFAULT_TOKEN_TTL).minusSeconds(5), Instant.now().plus(AuthConfig.DEFAULT_TOKEN_TTL).plusSeconds(5));
  }
}
