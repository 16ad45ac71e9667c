package dev.yaad.server.auth;

import dev.yaad.server.limit.RateLimiter;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a presented credential into a {@link Principal}: an API key (compared by SHA-256
 * hash in constant time), a session token (a JWT checked by {@link SessionTokens}), or
 * nothing at all, which is allowed only when {@link AuthConfig#required()} is false.
 * Invalid credentials are counted per client address ({@link AuthConfig#failedAttempts()}):
 * a client that has presented too many is refused for a while, whatever it presents, so
 * keys cannot be guessed at speed. Thread-safe.
 */
public final class Authenticator {
  private static final Logger log = LoggerFactory.getLogger(Authenticator.class);

  private final AuthConfig config;
  private final SessionTokens tokens;
  private final RateLimiter<String> failures;

  public Authenticator(AuthConfig config) {
    this(config, Clock.systemUTC());
  }

  public Authenticator(AuthConfig config, Clock clock) {
    this.config = Objects.requireNonNull(config, "config");
    this.tokens = new SessionTokens(config, clock);
    this.failures = new RateLimiter<>(config.failedAttempts());
  }

  public AuthConfig config() {
    return config;
  }

  /** Issues and checks session tokens with this server's secret. */
  public SessionTokens tokens() {
    return tokens;
  }

  /**
   * As {@link #authenticate(String)}, counting an invalid credential against {@code client}.
   *
   * @param client the caller's address
   * @throws TooManyFailuresException if {@code client} has presented too many invalid credentials
   *     lately; the credential is not even looked at
   * @throws InvalidCredentialsException if it is not valid, or missing while required
   */
  public Principal authenticate(String credential, String client) {
    boolean presented = credential != null && !credential.isEmpty();
    if (presented) {
      long wait = failures.waitFor(client, 1);
      if (wait > 0) {
        throw new TooManyFailuresException(RateLimiter.retryAfterSeconds(wait), config.failedAttempts());
      }
    }
    try {
      return authenticate(credential);
    } catch (InvalidCredentialsException e) {
      if (presented) {
        failures.tryTake(client, 1);
        if (failures.waitFor(client, 1) > 0) {
          // An address parsed by Jetty, not text from the client: safe to log as it is.
          log.warn("auth: {} presented invalid credentials faster than {}; refusing its credentials for a while",
              client, config.failedAttempts());
        }
      }
      throw e;
    }
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
