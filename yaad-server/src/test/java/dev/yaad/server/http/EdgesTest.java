package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Memories;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.auth.Access;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.auth.Authenticator;
import dev.yaad.server.ops.Metrics;
import dev.yaad.server.ops.Readiness;
import io.javalin.Javalin;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server's edges besides the memory API: the open (loopback) mode, the hook the
 * WebSocket endpoint will use to learn its user, {@code /ready}, {@code /metrics} and
 * {@code /api/v1/config}.
 */
class EdgesTest {
  private final List<Runnable> cleanup = new ArrayList<>();

  @AfterEach
  void close() {
    cleanup.reversed().forEach(Runnable::run);
  }

  private Http start(AuthConfig auth, Readiness readiness, boolean llm, Consumer<Javalin> sessions) throws Exception {
    Memories store = Memories.builder().store(TestStores.h2(Files.createTempDirectory("yaad-edges"))).build();
    Metrics metrics = new Metrics();
    Readiness ready = readiness != null ? readiness : new Readiness(Readiness.DEFAULT_TIMEOUT).add("database", Readiness.sql(store.dataSource()));
    Javalin app = HttpApp.create(new HttpApp.Setup(store, MemoryApi.DEFAULT_MAX_BODY_BYTES, new Authenticator(auth), metrics,
        ready, llm, sessions)).start("127.0.0.1", 0);
    cleanup.add(store::close);
    cleanup.add(metrics::close);
    cleanup.add(app::stop);
    return new Http(app.port());
  }

  /** What the WebSocket endpoint will do in its wsBeforeUpgrade: ask Access whose session it is. */
  private static Consumer<Javalin> sessionProbe(Authenticator authenticator) {
    return app -> app.get("/probe/session-user", ctx -> ctx.result(Access.sessionUser(ctx, authenticator)), Access.Role.PUBLIC);
  }

  // --- open server (auth off) ------------------------------------------------------------------

  @Test
  void openServer_needsNoCredentials_andSaysSo() throws Exception {
    Http http = start(AuthConfig.off(), null, false, null);
    assertThat(http.post("/api/v1/users/ali/memories", "{\"category\":\"FACT\",\"content\":\"x\"}").status()).isEqualTo(201);
    assertThat(http.get("/api/v1/users/ali/memories").status()).isEqualTo(200);
    assertThat(http.get("/metrics").status()).isEqualTo(200);
    var config = http.get("/api/v1/config").json();
    assertThat(config.get("authRequired").asBoolean()).isFalse();
    assertThat(config.get("llmConfigured").asBoolean()).isFalse();
    assertThat(config.get("sessionsAvailable").asBoolean()).isFalse();
    assertThat(config.get("categories").get(0).asText()).isEqualTo("FACT");
  }

  @Test
  void openServer_stillHoldsATokenToItsUser() throws Exception {
    Http http = start(AuthConfig.off(), null, false, null);
    String token = http.post("/api/v1/tokens", "{\"userId\":\"ali\"}").json().get("token").asText();
    http.put("/api/v1/users/bob/profile", "{\"content\":\"bob\"}");
    assertThat(http.as(token).get("/api/v1/users/bob/profile").status()).isEqualTo(403);
    assertThat(http.as(token).put("/api/v1/users/ali/profile", "{\"content\":\"ali\"}").status()).isEqualTo(200);
    assertThat(http.as("garbage-credential-0123456789").get("/api/v1/users/bob/profile").status()).isEqualTo(401);
  }

  @Test
  void config_reportsLlmAndSessions() throws Exception {
    Http http = start(AuthConfig.off(), null, true, app -> { });
    var config = http.get("/api/v1/config").json();
    assertThat(config.get("llmConfigured").asBoolean()).isTrue();
    assertThat(config.get("sessionsAvailable").asBoolean()).isTrue();
  }

  // --- the WebSocket hook ----------------------------------------------------------------------

  @Test
  void sessionUser_onAnOpenServer_comesFromTheQuery() throws Exception {
    Authenticator open = new Authenticator(AuthConfig.off());
    Http http = start(AuthConfig.off(), null, true, sessionProbe(open));
    assertThat(http.get("/probe/session-user?userId=ali").body()).isEqualTo("ali");
    assertThat(http.get("/probe/session-user").status()).isEqualTo(400);
    String token = open.tokens().issue("zara", Duration.ofMinutes(1)).token();
    assertThat(http.get("/probe/session-user?token=" + token).body()).isEqualTo("zara");
    assertThat(http.get("/probe/session-user?token=" + token + "&userId=ali").status()).isEqualTo(403);
  }

  @Test
  void sessionUser_withAuth_needsATokenOrAKeyAndAUser() throws Exception {
    AuthConfig auth = AuthConfig.of(AuthApiTest.API_KEY, AuthApiTest.SECRET);
    Authenticator authenticator = new Authenticator(auth);
    Http http = start(auth, null, true, sessionProbe(authenticator));
    assertThat(http.get("/probe/session-user?userId=ali").status()).isEqualTo(401);
    String token = authenticator.tokens().issue("zara", Duration.ofMinutes(1)).token();
    assertThat(http.get("/probe/session-user?token=" + token).body()).isEqualTo("zara");
    assertThat(http.as(token).get("/probe/session-user").body()).isEqualTo("zara");
    assertThat(http.get("/probe/session-user?token=" + token + "&userId=ali").status()).isEqualTo(403);
    assertThat(http.as(AuthApiTest.API_KEY).get("/probe/session-user?userId=ali").body()).isEqualTo("ali");
    assertThat(http.as(AuthApiTest.API_KEY).get("/probe/session-user").status()).isEqualTo(400);
    assertThat(http.get("/probe/session-user?token=nonsense").status()).isEqualTo(401);
  }

  // --- readiness -------------------------------------------------------------------------------

  @Test
  void ready_withTheDatabaseUp_is200() throws Exception {
    Http http = start(AuthConfig.off(), null, false, null);
    var response = http.get("/ready");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("status").asText()).isEqualTo("ready");
    assertThat(response.json().get("checks").get("database").asText()).isEqualTo("ok");
  }

  @Test
  void ready_whenACheckFailsOrHangs_is503NamingIt_withoutInternals() throws Exception {
    Readiness readiness = new Readiness(Duration.ofMillis(300))
        .add("database", () -> { throw new java.sql.SQLException("Connection refused: db.internal:5432 password=hunter2"); })
        .add("redis", () -> Thread.sleep(5_000))
        .add("fine", () -> { });
    Http http = start(AuthConfig.off(), readiness, false, null);
    long t0 = System.nanoTime();
    var response = http.get("/ready");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.json().get("status").asText()).isEqualTo("not_ready");
    assertThat(response.json().get("checks").get("database").asText()).isEqualTo("unreachable");
    assertThat(response.json().get("checks").get("redis").asText()).startsWith("timed out");
    assertThat(response.json().get("checks").get("fine").asText()).isEqualTo("ok");
    assertThat(response.body()).doesNotContain("hunter2", "db.internal");
    assertThat(http.get("/health").status()).isEqualTo(200);
  }

  // --- metrics ---------------------------------------------------------------------------------

  @Test
  void metrics_timeRequestsByRouteTemplate_andShowTheJvm() throws Exception {
    Http http = start(AuthConfig.off(), null, false, null);
    http.post("/api/v1/users/secret-user-id/memories", "{\"category\":\"FACT\",\"content\":\"x\"}");
    http.get("/api/v1/users/secret-user-id/memories");
    http.get("/no/such/route");
    http.get("/");
    String scrape = http.get("/metrics").body();
    assertThat(scrape)
        .contains("http_server_requests_seconds_count{method=\"POST\",outcome=\"SUCCESS\",status=\"201\",uri=\"/api/v1/users/{userId}/memories\"} 1")
        .contains("http_server_requests_seconds_count{method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/api/v1/users/{userId}/memories\"} 1")
        .contains("uri=\"NOT_FOUND\"")
        .contains("uri=\"static\"")
        .contains("jvm_memory_used_bytes", "jvm_threads_live_threads", "process_uptime_seconds", "jvm_gc_")
        .doesNotContain("secret-user-id", "/no/such/route");
  }

  @Test
  void metrics_registryIsSharedWithOtherComponents() throws Exception {
    Memories store = Memories.builder().store(TestStores.h2(Files.createTempDirectory("yaad-edges"))).build();
    cleanup.add(store::close);
    Metrics metrics = new Metrics();
    cleanup.add(metrics::close);
    metrics.registry().counter("yaad.agent.example.turns", "outcome", "completed").increment(3);
    Javalin app = HttpApp.create(new HttpApp.Setup(store, MemoryApi.DEFAULT_MAX_BODY_BYTES, new Authenticator(AuthConfig.off()),
        metrics, new Readiness(Readiness.DEFAULT_TIMEOUT), false, null)).start("127.0.0.1", 0);
    cleanup.add(app::stop);
    assertThat(new Http(app.port()).get("/metrics").body()).contains("yaad_agent_example_turns_total{outcome=\"completed\"} 3.0");
  }
}
