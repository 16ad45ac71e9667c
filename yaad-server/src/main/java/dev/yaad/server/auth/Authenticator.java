package dev.yaad.server.auth;

import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Turns a presented credential into a {@link Principal}: an API key (compared by SHA-256
 * hash in constant time), a session token (a JWT checked by {@link SessionTokens}), or
 * nothing at all, which is allowed only when {@link AuthConfig#required()} is false.
 * Thread-safe.
 */
public final class Authenticator {
  private final AuthConfig config;
  private final SessionTokens tokens;

  public Authenticator(AuthConfig config) {
    this(config, Clock.systemUTC());
  }

  public Authenticator(AuthConfig config, Clock clock) {
    this.config = Objects.requireNonNull(config, "config");
    this.tokens = new SessionTokens(config, clock);
  }

  public AuthConfig config() {
    return config;
  }

  /** Issues and checks session tokens with this server's secret. */
  public SessionTokens tokens() {
    return tokens;
  }

  /**
   * @param credential an API key or a session token, or {@code null} if none was presented
   * @throws InvalidCredentialsException if it is not valid, or missing while required
   */
  public Principal authenticate(String credential) {
    if (credential == null || credential.isEmpty()) {
      if (config.required()) {
        throw new InvalidCredentialsException(
            "authentication required: send 'Authorization: Bearer <API key or session token>'");
      }
      return new Principal.Open();
    }
    String keyId = apiKeyId(credential);
    if (keyId != null) {
      return new Principal.ApiKey(keyId);
    }
    if (SessionTokens.looksLikeToken(credential)) {
      return new Principal.User(tokens.verify(credential));
    }
    throw new InvalidCredentialsException("the credential is neither a known API key nor a session token");
  }

  /**
   * The id of the configured key the credential is ({@link Principal.ApiKey#id()}), or null.
   * Compares against every configured hash without stopping early, so timing tells nothing.
   */
  private String apiKeyId(String credential) {
    byte[] presented = AuthConfig.sha256(credential);
    byte[] match = null;
    for (byte[] hash : config.keyHashes()) {
      if (MessageDigest.isEqual(hash, presented)) {
        match = hash;
      }
    }
    return match == null ? null : AuthConfig.HASH_PREFIX + HexFormat.of().formatHex(match, 0, 4);
  }
}
