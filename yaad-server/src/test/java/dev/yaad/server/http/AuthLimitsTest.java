package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.YaadServer;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.auth.SessionTokens;
import dev.yaad.server.limit.Rate;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Guessing credentials is slow, and no session token outlives the configured lifetime. */
class AuthLimitsTest {
  private static final String API_KEY = "auth-limits-admin-key-0123456789";
  private static final String SECRET = "auth-limits-secret-0123456789-0123456789";

  @TempDir
  Path dir;
  private YaadServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private Http start(AuthConfig auth) {
    server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0).withAuth(auth)).start();
    return new Http(server.port());
  }

  @Test
  void afterTooManyInvalidCredentials_anAddressGets429_evenWithTheRightKey() {
    Http http = start(AuthConfig.of(API_KEY, SECRET).withFailedAttempts(Rate.parse("3/h")));
    for (int i = 0; i < 3; i++) {
      assertThat(http.as("guess-" + i + "-0123456789abcdef").get("/api/v1/users/ali/profile").status()).isEqualTo(401);
    }
    Http.Response refused = http.as(API_KEY).get("/api/v1/users/ali/profile");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.json().get("error").asText()).isEqualTo("rate_limited");
    assertThat(refused.json().get("message").asText()).contains("invalid credentials", "3/h");
    assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(1L, 1200L);
    // Without a credential nothing is guessed: the answer stays 401, and public routes stay open.
    assertThat(http.get("/api/v1/users/ali/profile").status()).isEqualTo(401);
    assertThat(http.get("/health").status()).isEqualTo(200);
  }

  @Test
  void tokenLifetime_isCappedAtIssue_andAtCheck() {
    AuthConfig hourAtMost = AuthConfig.of(API_KEY, SECRET).withMaxTokenTtl(Duration.ofHours(1));
    Http admin = start(hourAtMost).as(API_KEY);
    Http.Response tooLong = admin.post("/api/v1/tokens", "{\"userId\":\"ali\",\"ttlSeconds\":3601}");
    assertThat(tooLong.status()).isEqualTo(400);
    assertThat(tooLong.json().get("message").asText()).contains("between 60 and 3600", "--max-token-ttl");
    assertThat(admin.post("/api/v1/tokens", "{\"userId\":\"ali\",\"ttlSeconds\":3600}").status()).isEqualTo(201);

    // The same secret elsewhere, with a longer cap, signs a two-day token: this server refuses it.
    String twoDays = new SessionTokens(AuthConfig.of(null, SECRET).withMaxTokenTtl(Duration.ofDays(2)), Clock.systemUTC())
        .issue("ali", Duration.ofDays(2)).token();
    Http.Response refused = new Http(server.port()).as(twoDays).get("/api/v1/users/ali/profile");
    assertThat(refused.status()).isEqualTo(401);
    assertThat(refused.json().get("message").asText()).contains("lives longer than this server allows (3600 s)");
  }

  @Test
  void maxTokenTtl_belowAMinute_isRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> AuthConfig.off().withMaxTokenTtl(Duration.ofSeconds(30)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be shorter than 60 s");
  }
}
