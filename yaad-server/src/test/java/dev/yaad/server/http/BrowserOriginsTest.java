package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * What a web page of another site can do to a Yaad server in its visitor's browser: nothing.
 * An open server answers only to loopback {@code Host} names (DNS rebinding), and a session
 * WebSocket opens only for the server's own page or an allowed origin. Raw sockets, because a
 * browser's {@code Host} and {@code Origin} are what is being tested.
 */
class BrowserOriginsTest {
  private static final String API_KEY = "origins-test-admin-key-0123456789";
  private static final String SECRET = "origins-test-secret-0123456789-0123456789";
  private static ScriptedLlmServer llm;

  @TempDir
  Path dir;
  private YaadServer server;
  private int port;

  @BeforeAll
  static void startLlm() {
    llm = ScriptedLlmServer.start().rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("hello"));
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

  private void start(AuthConfig auth) {
    server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0).withAuth(auth)
        .withLlm(new LlmSettings(llm.baseUrl(), "scripted", null))).start();
    port = server.port();
  }

  // --- Host on an open server ------------------------------------------------------------------

  @Test
  void openServer_answersLoopbackHostsOnly_onEveryRoute() {
    start(AuthConfig.off());
    for (String host : new String[] {"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "127.0.0.2:" + port,
        "[::1]:" + port, "yaad.localhost:" + port}) {
      assertThat(status("GET", "/health", host)).as(host).isEqualTo(200);
    }
    // A page of evil.example whose name now resolves to 127.0.0.1 (DNS rebinding) sends its own name.
    for (String host : new String[] {"evil.example:" + port, "evil.example", "127.0.0.1.evil.example:" + port,
        "localhost.evil.example", "10.0.0.5:" + port, "[::2]:" + port, "999.0.0.1"}) {
      for (String path : new String[] {"/health", "/", "/app.js", "/api/v1/config", "/api/v1/users/ali/memories", "/no/such/route"}) {
        String answer = request("GET", path, host, List.of());
        assertThat(answer).as(host + " " + path).startsWith("HTTP/1.1 403").contains("\"error\":\"forbidden\"", "loopback names");
      }
      assertThat(request("POST", "/api/v1/tokens", host, List.of("Content-Type: application/json", "Content-Length: 16"),
          "{\"userId\":\"ali\"}")).as(host).startsWith("HTTP/1.1 403");
      assertThat(upgrade("userId=ali", List.of("Host: " + host))).as(host).isEqualTo(403);
    }
  }

  @Test
  void withAuthentication_hostIsNotChecked() {
    start(AuthConfig.of(API_KEY, SECRET));
    assertThat(status("GET", "/health", "yaad.example.com")).isEqualTo(200);
  }

  // --- Origin on the session WebSocket ---------------------------------------------------------

  @Test
  void openServer_sessionsOpenForItsOwnPageAndNonBrowsers_notForOtherOrigins() {
    start(AuthConfig.off());
    assertThat(upgrade("userId=ali", List.of())).as("no Origin: not a browser").isEqualTo(101);
    assertThat(upgrade("userId=ali", List.of("Origin: http://127.0.0.1:" + port))).as("its own page").isEqualTo(101);
    assertThat(upgrade("userId=ali", List.of("Host: localhost:" + port, "Origin: http://localhost:" + port))).isEqualTo(101);
    assertThat(upgrade("userId=ali", List.of("Origin: http://evil.example"))).isEqualTo(403);
    assertThat(upgrade("userId=ali", List.of("Origin: http://localhost:" + port))).as("another host").isEqualTo(403);
    assertThat(upgrade("userId=ali", List.of("Origin: http://127.0.0.1:" + (port + 1)))).as("another port").isEqualTo(403);
    assertThat(upgrade("userId=ali", List.of("Origin: https://127.0.0.1:" + port))).as("https, other default").isEqualTo(101);
    assertThat(upgrade("userId=ali", List.of("Origin: null"))).as("a sandboxed frame or a file").isEqualTo(403);
  }

  @Test
  void allowedOrigins_mayOpenSessions_withAuthOnOrOff() {
    start(AuthConfig.off().withAllowedOrigins("http://localhost:5173, https://app.example.com"));
    assertThat(upgrade("userId=ali", List.of("Origin: http://localhost:5173"))).isEqualTo(101);
    assertThat(upgrade("userId=ali", List.of("Origin: https://APP.example.com:443"))).isEqualTo(101);
    assertThat(upgrade("userId=ali", List.of("Origin: http://app.example.com"))).isEqualTo(403);
    server.close();

    start(AuthConfig.of(API_KEY, SECRET).withAllowedOrigins("https://app.example.com"));
    String token = new Http(port).as(API_KEY).post("/api/v1/tokens", "{\"userId\":\"ali\"}").json().get("token").asText();
    // Authentication does not lift the rule: a browser on another origin with a stolen token is still refused.
    assertThat(upgrade("token=" + token, List.of("Origin: https://evil.example"))).isEqualTo(403);
    assertThat(upgrade("token=" + token, List.of("Origin: https://app.example.com"))).isEqualTo(101);
    assertThat(upgrade("token=" + token, List.of("Host: yaad.example.com", "Origin: https://yaad.example.com"))).isEqualTo(101);
    assertThat(upgrade("token=" + token, List.of())).isEqualTo(101);
  }

  @Test
  void allowedOrigins_thatAreNoOrigins_areRefusedAtStart() {
    for (String bad : new String[] {"*", "app.example.com", "https://app.example.com/path", "ftp://files.example.com", "https://"}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> AuthConfig.off().withAllowedOrigins(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scheme://host[:port]");
    }
  }

  // --- who the session is for -------------------------------------------------------------------

  @Test
  void anApiKeyInTheUrl_isRefusedUnchecked_butASessionTokenThereWorks() {
    start(AuthConfig.of(API_KEY, SECRET));
    assertThat(upgrade("userId=ali&token=" + API_KEY, List.of())).isEqualTo(401);
    assertThat(upgrade("userId=ali&token=not-even-a-key-0123456789", List.of())).isEqualTo(401);
    assertThat(upgrade("userId=ali", List.of("Authorization: Bearer " + API_KEY))).isEqualTo(101);
    String token = new Http(port).as(API_KEY).post("/api/v1/tokens", "{\"userId\":\"ali\"}").json().get("token").asText();
    assertThat(upgrade("token=" + token, List.of())).isEqualTo(101);
  }

  @Test
  void aMalformedUserId_isRefused400_withAnApiKeyOrOnAnOpenServer() {
    start(AuthConfig.of(API_KEY, SECRET));
    String key = "Authorization: Bearer " + API_KEY;
    for (String bad : new String[] {"../x", "ali%0AINFO%20forged%20line", "u".repeat(129), "-ali", "ali%20bob"}) {
      assertThat(upgrade("userId=" + bad, List.of(key))).as(bad).isEqualTo(400);
    }
    assertThat(upgrade("userId=" + "u".repeat(128), List.of(key))).isEqualTo(101);
    assertThat(upgrade("userId=ali@example.com", List.of(key))).isEqualTo(101);
    server.close();
    start(AuthConfig.off());
    assertThat(upgrade("userId=..%2Fx", List.of())).isEqualTo(400);
    assertThat(upgrade("userId=app:1234", List.of())).isEqualTo(101);
  }

  // --- raw requests ------------------------------------------------------------------------------

  private int status(String method, String path, String host) {
    return Integer.parseInt(request(method, path, host, List.of()).substring(9, 12));
  }

  private String request(String method, String path, String host, List<String> headers) {
    return request(method, path, host, headers, "");
  }

  private String request(String method, String path, String host, List<String> headers, String body) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
      headers.forEach(h -> head.append(h).append("\r\n"));
      socket.getOutputStream().write((head + "\r\n" + body).getBytes(StandardCharsets.UTF_8));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The status of a WebSocket upgrade with these extra header lines (a 101 is closed at once). */
  private int upgrade(String query, List<String> headers) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      return RawWebSocket.upgrade(socket, query, new ArrayList<>(headers));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
