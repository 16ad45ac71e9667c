package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.store.StoreConfig;
import io.javalin.util.JavalinBindException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YaadServerTest {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static YaadServer.Config config(Path dir) {
    return YaadServer.Config.of(StoreConfig.of("jdbc:h2:file:" + dir.resolve("nested/data/yaad").toAbsolutePath()))
        .withAddress("127.0.0.1", 0);
  }

  private int health(int port) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void startOnPortZero_servesUntilStopped(@TempDir Path dir) throws Exception {
    YaadServer server = new YaadServer(config(dir)).start();
    int port = server.port();
    assertThat(port).isPositive();
    assertThat(health(port)).isEqualTo(200);
    assertThat(dir.resolve("nested/data")).isDirectory();

    server.stop();
    assertThatThrownBy(() -> health(port)).isInstanceOf(ConnectException.class);
    assertThatThrownBy(server::port).isInstanceOf(IllegalStateException.class);
    server.stop(); // a second stop does nothing
  }

  @Test
  void metrics_showSnapshotAndSearchLatency_andCacheLevels(@TempDir Path dir) throws Exception {
    try (YaadServer server = new YaadServer(config(dir)).start()) {
      String base = "http://127.0.0.1:" + server.port();
      HttpResponse<String> added = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/users/m1/memories"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"category\":\"GOAL\",\"content\":\"learn the sitar\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(added.statusCode()).isEqualTo(201);
      for (int i = 0; i < 2; i++) { // a miss, then an L1 hit
        assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/users/m1/snapshot")).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      }
      assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/users/m1/search"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"query\":\"sitar\"}")).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).isEqualTo(200);

      String scrape = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(scrape).contains("yaad_memory_snapshot_seconds_count 2\n", "yaad_memory_search_seconds_count 1\n")
          .contains("yaad_cache_gets_total{level=\"l1\",result=\"hit\"} 1.0")
          .contains("yaad_cache_gets_total{level=\"l1\",result=\"miss\"} 1.0");
    }
  }

  @Test
  void restart_keepsTheData(@TempDir Path dir) throws Exception {
    try (YaadServer first = new YaadServer(config(dir)).start()) {
      HttpResponse<String> created = client.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + first.port() + "/api/v1/users/u1/profile"))
          .header("Content-Type", "application/json")
          .PUT(HttpRequest.BodyPublishers.ofString("{\"content\":\"kept\"}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(created.statusCode()).isEqualTo(200);
    }
    try (YaadServer second = new YaadServer(config(dir)).start()) {
      HttpResponse<String> profile = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + second.port() + "/api/v1/users/u1/profile")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(profile.body()).contains("\"content\":\"kept\"");
    }
  }

  @Test
  void start_twice_isRefused(@TempDir Path dir) {
    try (YaadServer server = new YaadServer(config(dir)).start()) {
      assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("already running");
    }
  }

  @Test
  void start_onAPortInUse_failsAndCanStillBeStopped(@TempDir Path dir) throws IOException {
    try (YaadServer first = new YaadServer(config(dir.resolve("a"))).start()) {
      YaadServer second = new YaadServer(config(dir.resolve("b")).withAddress("127.0.0.1", first.port()));
      assertThatThrownBy(second::start).isInstanceOf(JavalinBindException.class);
      second.stop();
    }
  }

  @Test
  void config_rejectsImpossibleValues() {
    StoreConfig store = StoreConfig.of(StoreConfig.DEFAULT_H2_URL);
    assertThatThrownBy(() -> new YaadServer.Config("127.0.0.1", 65536, store, 1)).hasMessageContaining("port");
    assertThatThrownBy(() -> new YaadServer.Config(" ", 80, store, 1)).hasMessageContaining("host");
    assertThatThrownBy(() -> new YaadServer.Config("127.0.0.1", 80, store, 0)).hasMessageContaining("maxBodyBytes");
  }

  @Test
  void start_onANonLoopbackAddress_needsAuth(@TempDir Path dir) {
    YaadServer open = new YaadServer(config(dir).withAddress("0.0.0.0", 0));
    assertThatThrownBy(open::start).isInstanceOf(YaadServer.UnsafeAddressException.class)
        .hasMessageContaining("refusing to listen on 0.0.0.0 without authentication").hasMessageContaining("YAAD_API_KEYS");
    assertThat(dir.resolve("nested/data")).doesNotExist(); // refused before touching the database

    var auth = dev.yaad.server.auth.AuthConfig.of("a-long-enough-api-key-123", null);
    try (YaadServer guarded = new YaadServer(config(dir).withAddress("0.0.0.0", 0).withAuth(auth)).start()) {
      assertThat(guarded.port()).isPositive();
    }
  }

  @Test
  void loopback_coversNamesAndBothFamilies() {
    assertThat(YaadServer.isLoopback("127.0.0.1")).isTrue();
    assertThat(YaadServer.isLoopback("127.0.0.2")).isTrue();
    assertThat(YaadServer.isLoopback("localhost")).isTrue();
    assertThat(YaadServer.isLoopback("::1")).isTrue();
    assertThat(YaadServer.isLoopback("0.0.0.0")).isFalse();
    assertThat(YaadServer.isLoopback("::")).isFalse();
    assertThat(YaadServer.isLoopback("no-such-host.invalid")).isFalse();
  }

  @Test
  void meterRegistry_isAvailableBeforeStart_andScrapedAtMetrics(@TempDir Path dir) throws Exception {
    YaadServer server = new YaadServer(config(dir));
    server.meterRegistry().counter("yaad.test.wired").increment();
    try (server) {
      server.start();
      String scrape = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(scrape).contains("yaad_test_wired_total 1.0");
    }
  }
}
