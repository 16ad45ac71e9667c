package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.YaadServer;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.limit.Rate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-client limits of the HTTP side, over a real server on a random port. */
class HttpLimitsTest {
  private static final String API_KEY = "limits-test-admin-key-0123456789";
  private static final String OTHER_KEY = "limits-test-other-key-0123456789";
  private static final String SECRET = "limits-test-secret-0123456789-0123456789";

  @TempDir
  Path dir;
  private YaadServer server;
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void stop() throws IOException {
    for (Socket socket : sockets) {
      socket.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private Http start(HttpLimits limits, AuthConfig auth) {
    server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0).withAuth(auth).withLimits(limits)).start();
    return new Http(server.port());
  }

  @Test
  void connectionsPerAddress_overTheLimit_closeAtOnce_andFreeSlotsAreReused() throws Exception {
    Http http = start(HttpLimits.defaults().withMaxConnectionsPerIp(4), AuthConfig.off());
    for (int i = 0; i < 5; i++) {
      sockets.add(openIdle());
    }
    // All five are open at once: four are answered, one is closed unanswered (which one is up to the server).
    List<String> answers = new ArrayList<>();
    for (Socket socket : sockets) {
      answers.add(health(socket));
    }
    assertThat(answers).containsExactlyInAnyOrder("HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK",
        "closed unanswered");
    for (Socket socket : sockets) {
      socket.close();
    }
    sockets.clear();
    awaitHealth(http);
  }

  @Test
  void requestsPerUser_overTheRate_get429WithRetryAfter_andOtherUsersGoOn() {
    Http http = start(HttpLimits.defaults().withRequestRates(Rate.parse("3/h"), Rate.OFF), AuthConfig.off());
    for (int i = 0; i < 3; i++) {
      assertThat(http.put("/api/v1/users/ali/profile", "{\"content\":\"Ali " + i + "\"}").status()).isEqualTo(200);
    }
    Http.Response refused = http.get("/api/v1/users/ali/profile");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.json().get("error").asText()).isEqualTo("rate_limited");
    assertThat(refused.json().get("message").asText()).contains("user 'ali'", "3/h");
    assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(1L, 3600L);
    assertThat(http.get("/api/v1/users/bob/profile").status()).isEqualTo(404); // bob has his own bucket
    assertThat(http.get("/health").status()).isEqualTo(200); // public routes spend nothing
    assertThat(http.get("/api/v1/config").status()).isEqualTo(200);
  }

  @Test
  void requestsPerApiKey_overTheRate_get429_acrossUsers_andOtherKeysGoOn() {
    Http http = start(HttpLimits.defaults().withRequestRates(Rate.OFF, Rate.parse("3/h")),
        AuthConfig.of(API_KEY + "," + OTHER_KEY, SECRET));
    Http admin = http.as(API_KEY);
    assertThat(admin.get("/api/v1/users/a/profile").status()).isEqualTo(404);
    assertThat(admin.get("/api/v1/users/b/profile").status()).isEqualTo(404);
    assertThat(admin.get("/metrics").status()).isEqualTo(200);
    Http.Response refused = admin.get("/api/v1/users/c/profile");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.json().get("message").asText()).contains("API key sha256:").doesNotContain(API_KEY);
    assertThat(refused.header("Retry-After")).isNotNull();
    assertThat(http.as(OTHER_KEY).get("/api/v1/users/c/profile").status()).isEqualTo(404);
  }

  @Test
  void rates_parseAsPeopleWriteThem_andRefuseNonsense() {
    assertThat(Rate.parse("20/10s")).isEqualTo(Rate.of(20, Duration.ofSeconds(10)));
    assertThat(Rate.parse(" 1000 / h ")).isEqualTo(Rate.of(1000, Duration.ofHours(1)));
    assertThat(Rate.parse("off")).isEqualTo(Rate.OFF);
    assertThat(Rate.parse("0")).isEqualTo(Rate.OFF);
    assertThat(Rate.parse("600/m").toString()).isEqualTo("600/m");
    assertThat(Rate.parse("20/10s").toString()).isEqualTo("20/10s");
    for (String bad : new String[] {"", "20", "20/", "/s", "-1/s", "20/0s", "20/week", "twenty/s"}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> Rate.parse(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("N/period");
    }
  }

  private Socket openIdle() throws IOException {
    Socket socket = new Socket("127.0.0.1", server.port());
    socket.setSoTimeout(10_000);
    return socket;
  }

  /** The status line of {@code GET /health} over {@code socket}, or "closed unanswered". */
  static String health(Socket socket) {
    try {
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      return answer.isEmpty() ? "closed unanswered" : answer.substring(0, answer.indexOf("\r\n"));
    } catch (IOException e) {
      return "closed unanswered"; // a reset
    }
  }

  /** Once the server has seen a connection close, a new one is let in again. */
  private static void awaitHealth(Http http) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      try {
        if (http.get("/health").status() == 200) {
          return;
        }
      } catch (UncheckedIOException e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("a new connection was not let in after one closed", e);
        }
      }
      Thread.sleep(20);
    }
  }
}
