package dev.yaad.server.auth;

import dev.yaad.server.limit.Rate;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Who may call the server: API keys (admin and server-to-server callers, any user) and the
 * secret that signs session tokens (one user each). Built once at start-up from
 * {@code YAAD_API_KEYS} and {@code YAAD_TOKEN_SECRET}; keeps only SHA-256 hashes of the keys,
 * never the keys themselves, and its {@link #toString()} shows no secret.
 *
 * <p>Authentication is <em>required</em> when at least one API key or a token secret is set.
 * Without either the server runs open, which {@code YaadServer} allows on loopback only.
 *
 * <p>Besides credentials it says which web pages may open sessions ({@link #allowedOrigins()}:
 * the server's own page always may), how long a session token may live at most
 * ({@link #maxTokenTtl()}), and how many invalid credentials one client address may present
 * before it has to wait ({@link #failedAttempts()}).
 *
 * {@snippet :
 * AuthConfig auth = AuthConfig.of("k-9f2c4e1a7b3d5f60,sha256:5e88...42d8", System.getenv("YAAD_TOKEN_SECRET"))
 *     .withAllowedOrigins("https://app.example.com");
 * }
 */
public final class AuthConfig {
  /** A key shorter than this is refused: keys are meant to be generated, not remembered. */
  public static final int MIN_KEY_LENGTH = 16;
  /** HS256 wants a key of at least its hash size (RFC 7518, 3.2). */
  public static final int MIN_SECRET_BYTES = 32;
  public static final Duration DEFAULT_TOKEN_TTL = Duration.ofMinutes(15);
  /** The longest a session token may live unless configured otherwise. */
  public static final Duration DEFAULT_MAX_TOKEN_TTL = Duration.ofHours(24);
  /** The shortest a session token may be issued for. */
  public static final Duration MIN_TOKEN_TTL = Duration.ofMinutes(1);
  /** Invalid credentials one client address may present, refilling over the period. */
  public static final Rate DEFAULT_FAILED_ATTEMPTS = Rate.of(20, Duration.ofMinutes(1));
  static final String HASH_PREFIX = "sha256:";

  private static final AuthConfig OFF = new AuthConfig(List.of(), randomSecret(), false, List.of(), DEFAULT_MAX_TOKEN_TTL,
      DEFAULT_FAILED_ATTEMPTS);

  private final List<byte[]> keyHashes;
  private final byte[] tokenSecret;
  private final boolean secretConfigured;
  private final List<String> allowedOrigins;
  private final Duration maxTokenTtl;
  private final Rate failedAttempts;

  private AuthConfig(List<byte[]> keyHashes, byte[] tokenSecret, boolean secretConfigured, List<String> allowedOrigins,
      Duration maxTokenTtl, Rate failedAttempts) {
    this.keyHashes = keyHashes;
    this.tokenSecret = tokenSecret;
    this.secretConfigured = secretConfigured;
    this.allowedOrigins = allowedOrigins;
    this.maxTokenTtl = maxTokenTtl;
    this.failedAttempts = failedAttempts;
  }

  /**
   * No API keys and a random token secret: nothing is required, but tokens issued by this
   * server are still checked when presented (and bind their user).
   */
  public static AuthConfig off() {
    return OFF;
  }

  /**
   * @param apiKeys     comma-separated keys, each either the key itself (at least
   *                    {@value #MIN_KEY_LENGTH} characters) or {@code sha256:} followed by the
   *                    64 hex digits of its SHA-256, so the plain key need not be in the
   *                    server's environment; {@code null} or blank for none
   * @param tokenSecret the HMAC secret for session tokens, at least {@value #MIN_SECRET_BYTES}
   *                    bytes of UTF-8; {@code null} or blank for a random one (tokens then
   *                    die with the process and are not valid on other instances)
   * @throws IllegalArgumentException naming the rule broken (never echoing a key or secret)
   */
  public static AuthConfig of(String apiKeys, String tokenSecret) {
    List<byte[]> hashes = new ArrayList<>();
    if (apiKeys != null && !apiKeys.isBlank()) {
      String[] entries = apiKeys.split(",");
      for (int i = 0; i < entries.length; i++) {
        String entry = entries[i].strip();
        if (entry.isEmpty()) {
          continue;
        }
        hashes.add(hashOf(entry, i + 1));
      }
    }
    byte[] secret;
    boolean configured = tokenSecret != null && !tokenSecret.isBlank();
    if (configured) {
      secret = tokenSecret.getBytes(StandardCharsets.UTF_8);
      if (secret.length < MIN_SECRET_BYTES) {
        throw new IllegalArgumentException("the token secret must be at least " + MIN_SECRET_BYTES
            + " bytes (was " + secret.length + "); generate one with: openssl rand -base64 48");
      }
    } else {
      secret = randomSecret();
    }
    if (hashes.isEmpty() && !configured) {
      return OFF;
    }
    return new AuthConfig(List.copyOf(hashes), secret, configured, List.of(), DEFAULT_MAX_TOKEN_TTL, DEFAULT_FAILED_ATTEMPTS);
  }

  /**
   * Web pages of other origins that may open sessions, besides the server's own page.
   *
   * @param commaSeparated origins as browsers send them, {@code scheme://host[:port]} such as
   *                       {@code https://app.example.com} or {@code http://localhost:5173};
   *                       {@code null} or blank for none
   * @throws IllegalArgumentException naming an entry that is not such an origin
   */
  public AuthConfig withAllowedOrigins(String commaSeparated) {
    List<String> origins = new ArrayList<>();
    if (commaSeparated != null) {
      for (String entry : commaSeparated.split(",")) {
        if (!entry.isBlank()) {
          origins.add(Origins.parseAllowed(entry.strip()));
        }
      }
    }
    return new AuthConfig(keyHashes, tokenSecret, secretConfigured, List.copyOf(origins), maxTokenTtl, failedAttempts);
  }

  /**
   * The longest lifetime a session token may be issued for, and the longest one this server
   * accepts (a token signed with the same secret elsewhere for longer is refused).
   *
   * @throws IllegalArgumentException if shorter than {@link #MIN_TOKEN_TTL}
   */
  public AuthConfig withMaxTokenTtl(Duration max) {
    if (max.compareTo(MIN_TOKEN_TTL) < 0) {
      throw new IllegalArgumentException("the longest token lifetime cannot be shorter than " + MIN_TOKEN_TTL.toSeconds()
          + " s (was " + max.toSeconds() + " s)");
    }
    return new AuthConfig(keyHashes, tokenSecret, secretConfigured, allowedOrigins, max, failedAttempts);
  }

  /** Invalid credentials one client address may present; {@link Rate#OFF} for no limit. */
  public AuthConfig withFailedAttempts(Rate rate) {
    return new AuthConfig(keyHashes, tokenSecret, secretConfigured, allowedOrigins, maxTokenTtl, Objects.requireNonNull(rate, "rate"));
  }

  private static byte[] hashOf(String entry, int position) {
    if (entry.regionMatches(true, 0, HASH_PREFIX, 0, HASH_PREFIX.length())) {
      String hex = entry.substring(HASH_PREFIX.length()).toLowerCase(Locale.ROOT);
      if (!hex.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException("API key #" + position + " starts with 'sha256:' but is not followed by 64 hex digits");
      }
      return HexFormat.of().parseHex(hex);
    }
    if (entry.length() < MIN_KEY_LENGTH) {
      throw new IllegalArgumentException("API key #" + position + " is " + entry.length() + " characters; keys must be at least "
          + MIN_KEY_LENGTH + " (generate one with: openssl rand -hex 24)");
    }
    return sha256(entry);
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static byte[] randomSecret() {
    byte[] secret = new byte[MIN_SECRET_BYTES];
    new SecureRandom().nextBytes(secret);
    return secret;
  }

  /** True when callers must present an API key or a session token. */
  public boolean required() {
    return !keyHashes.isEmpty() || secretConfigured;
  }

  /** How many API keys are configured. */
  public int apiKeyCount() {
    return keyHashes.size();
  }

  /** True when the token secret was configured, false when it was generated for this process. */
  public boolean tokenSecretConfigured() {
    return secretConfigured;
  }

  /** Other origins whose pages may open sessions, normalised ({@code https://app.example.com}). */
  public List<String> allowedOrigins() {
    return allowedOrigins;
  }

  public Duration maxTokenTtl() {
    return maxTokenTtl;
  }

  public Rate failedAttempts() {
    return failedAttempts;
  }

  List<byte[]> keyHashes() {
    return keyHashes;
  }

  byte[] tokenSecret() {
    return tokenSecret;
  }

  /** Says what is configured, never what the keys or the secret are. */
  @Override
  public String toString() {
    return "AuthConfig[required=" + required() + ", apiKeys=" + keyHashes.size() + ", tokenSecret="
        + (secretConfigured ? "configured" : "random per process") + ", allowedOrigins=" + allowedOrigins
        + ", maxTokenTtl=" + maxTokenTtl + ", failedAttempts=" + failedAttempts + "]";
  }
}
