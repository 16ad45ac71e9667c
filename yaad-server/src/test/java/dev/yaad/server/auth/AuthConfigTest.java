package dev.yaad.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class AuthConfigTest {
  private static final String KEY = "k-0123456789abcdef-key";
  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  @Test
  void off_requiresNothing() {
    assertThat(AuthConfig.off().required()).isFalse();
    assertThat(AuthConfig.of(null, null).required()).isFalse();
    assertThat(AuthConfig.of(" ", "").required()).isFalse();
    assertThat(new Authenticator(AuthConfig.off()).authenticate(null)).isEqualTo(new Principal.Open());
  }

  @Test
  void keysOrSecret_turnAuthOn() {
    assertThat(AuthConfig.of(KEY, null).required()).isTrue();
    assertThat(AuthConfig.of(null, SECRET).required()).isTrue();
    assertThat(AuthConfig.of(KEY + ", other-key-0123456789", SECRET).apiKeyCount()).isEqualTo(2);
  }

  @Test
  void keys_areKeptOnlyAsHashes_andMatchedEitherWay() {
    String hex = HexFormat.of().formatHex(AuthConfig.sha256(KEY));
    Authenticator plain = new Authenticator(AuthConfig.of(KEY, null));
    Authenticator hashed = new Authenticator(AuthConfig.of("sha256:" + hex.toUpperCase(), null));
    // Named by the start of its hash, never by the key: the same name however it was configured.
    assertThat(plain.authenticate(KEY)).isEqualTo(new Principal.ApiKey("sha256:" + hex.substring(0, 8)));
    assertThat(hashed.authenticate(KEY)).isEqualTo(new Principal.ApiKey("sha256:" + hex.substring(0, 8)));
    assertThatThrownBy(() -> hashed.authenticate("sha256:" + hex)).isInstanceOf(InvalidCredentialsException.class);
    assertThatThrownBy(() -> plain.authenticate(KEY + "x")).isInstanceOf(InvalidCredentialsException.class);
    assertThatThrownBy(() -> plain.authenticate(null)).isInstanceOf(InvalidCredentialsException.class)
        .hasMessageContaining("Authorization: Bearer");
  }

  @Test
  void badKeysAndSecrets_areRefused_withoutEchoingThem() {
    assertThatThrownBy(() -> AuthConfig.of("short-key", null)).hasMessageContaining("API key #1").hasMessageNotContaining("short-key");
    assertThatThrownBy(() -> AuthConfig.of(KEY + ",tiny", null)).hasMessageContaining("API key #2");
    assertThatThrownBy(() -> AuthConfig.of("sha256:abc", null)).hasMessageContaining("64 hex digits");
    assertThatThrownBy(() -> AuthConfig.of(null, "too-short-secret")).hasMessageContaining("at least 32 bytes").hasMessageNotContaining("too-short-secret");
  }

  @Test
  void toString_showsNoSecret() {
    String text = AuthConfig.of(KEY, SECRET).toString();
    assertThat(text).doesNotContain(KEY, SECRET, HexFormat.of().formatHex(AuthConfig.sha256(KEY))).contains("apiKeys=1");
  }

  @Test
  void tokens_bindOneUser_andExpire() {
    AuthConfig config = AuthConfig.of(null, SECRET);
    Instant now = Instant.parse("2026-11-27T10:00:00Z");
    SessionTokens issuer = new SessionTokens(config, Clock.fixed(now, ZoneOffset.UTC));
    SessionTokens.Issued issued = issuer.issue("ali", Duration.ofMinutes(15));
    assertThat(issued.expiresAt()).isEqualTo(now.plus(Duration.ofMinutes(15)));
    assertThat(issued.toString()).doesNotContain(issued.token());

    assertThat(new SessionTokens(config, Clock.fixed(now.plusSeconds(899), ZoneOffset.UTC)).verify(issued.token())).isEqualTo("ali");
    assertThat(new Authenticator(config, Clock.fixed(now, ZoneOffset.UTC)).authenticate(issued.token())).isEqualTo(new Principal.User("ali"));
    SessionTokens later = new SessionTokens(config, Clock.fixed(now.plusSeconds(900 + SessionTokens.LEEWAY_SECONDS + 1), ZoneOffset.UTC));
    assertThatThrownBy(() -> later.verify(issued.token())).isInstanceOf(InvalidCredentialsException.class).hasMessageContaining("expired");
  }

  @Test
  void tokens_fromAnotherSecret_orTampered_areRefused() {
    SessionTokens ours = new SessionTokens(AuthConfig.of(null, SECRET), Clock.systemUTC());
    SessionTokens theirs = new SessionTokens(AuthConfig.of(null, SECRET.replace('0', 'x')), Clock.systemUTC());
    String foreign = theirs.issue("ali", Duration.ofMinutes(5)).token();
    assertThatThrownBy(() -> ours.verify(foreign)).isInstanceOf(InvalidCredentialsException.class);

    String token = ours.issue("ali", Duration.ofMinutes(5)).token();
    String[] parts = token.split("\\.");
    String otherUser = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        new String(java.util.Base64.getUrlDecoder().decode(parts[1])).replace("\"ali\"", "\"bob\"").getBytes());
    assertThatThrownBy(() -> ours.verify(parts[0] + "." + otherUser + "." + parts[2])).isInstanceOf(InvalidCredentialsException.class);
  }

  @Test
  void principals_actOnTheRightUsers() {
    assertThat(new Principal.User("ali").mayActOn("ali")).isTrue();
    assertThat(new Principal.User("ali").mayActOn("Ali")).isFalse();
    assertThat(new Principal.User("ali").isAdmin()).isFalse();
    assertThat(new Principal.ApiKey("sha256:00000000").mayActOn("anyone")).isTrue();
    assertThat(new Principal.Open().isAdmin()).isTrue();
  }
}
