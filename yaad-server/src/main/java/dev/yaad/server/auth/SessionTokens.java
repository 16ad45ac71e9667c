package dev.yaad.server.auth;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.interfaces.DecodedJWT;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.UUID;

/**
 * Short-lived session tokens: JWTs signed with HMAC-SHA256 whose subject is exactly one user
 * id. A token is issued by an admin ({@code POST /api/v1/tokens}) and handed to the person's
 * browser or app, which can then reach that user's data and sessions and nothing else.
 * No token lives longer than {@link AuthConfig#maxTokenTtl()}: none is issued for longer, and
 * one signed elsewhere with the same secret for longer (from issue to expiry) is refused.
 */
public final class SessionTokens {
  static final String ISSUER = "yaad";
  static final String AUDIENCE = "yaad-session";
  /** Clocks of the issuing and the checking instance may differ by this much. */
  static final long LEEWAY_SECONDS = 5;

  private final Algorithm algorithm;
  private final JWTVerifier verifier;
  private final Clock clock;
  private final Duration maxTtl;

  /** A token that {@link #issue} made. */
  public record Issued(String token, String userId, Instant expiresAt) {
    @Override
    public String toString() {
      return "Issued[userId=" + userId + ", expiresAt=" + expiresAt + ", token=***]";
    }
  }

  public SessionTokens(AuthConfig config, Clock clock) {
    this.algorithm = Algorithm.HMAC256(config.tokenSecret());
    this.clock = Objects.requireNonNull(clock, "clock");
    this.maxTtl = config.maxTokenTtl();
    this.verifier = ((JWTVerifier.BaseVerification) JWT.require(algorithm)
        .withIssuer(ISSUER)
        .withAudience(AUDIENCE)
        .withClaimPresence("sub")
        .withClaimPresence("exp")
        .withClaimPresence("iat")
        .acceptLeeway(LEEWAY_SECONDS))
        .build(clock);
  }

  /** The longest lifetime a token may have here. */
  public Duration maxTtl() {
    return maxTtl;
  }

  /**
   * Signs a token for {@code userId} valid for {@code ttl}; the caller has checked both.
   *
   * @throws IllegalArgumentException if {@code ttl} is longer than {@link #maxTtl()}
   */
  public Issued issue(String userId, Duration ttl) {
    if (ttl.compareTo(maxTtl) > 0) {
      throw new IllegalArgumentException("a session token may live at most " + maxTtl.toSeconds() + " s (asked: " + ttl.toSeconds() + " s)");
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant expires = now.plus(ttl);
    String token = JWT.create()
        .withIssuer(ISSUER)
        .withAudience(AUDIENCE)
        .withSubject(userId)
        .withIssuedAt(now)
        .withExpiresAt(expires)
        .withJWTId(UUID.randomUUID().toString())
        .sign(algorithm);
    return new Issued(token, userId, expires);
  }

  /**
   * The user id the token binds.
   *
   * @throws InvalidCredentialsException if the signature, issuer, audience or expiry is wrong;
   *     the message says which, without echoing the token
   */
  public String verify(String token) {
    try {
      DecodedJWT jwt = verifier.verify(token);
      String subject = jwt.getSubject();
      if (subject == null || subject.isBlank()) {
        throw new InvalidCredentialsException("the session token names no user");
      }
      Duration lifetime = Duration.between(jwt.getIssuedAtAsInstant(), jwt.getExpiresAtAsInstant());
      if (lifetime.compareTo(maxTtl) > 0) {
        throw new InvalidCredentialsException("the session token lives longer than this server allows ("
            + maxTtl.toSeconds() + " s); ask for a new one");
      }
      return subject;
    } catch (TokenExpiredException e) {
      throw new InvalidCredentialsException("the session token has expired; ask for a new one");
    } catch (JWTVerificationException e) {
      throw new InvalidCredentialsException("the session token is not valid here");
    }
  }

  /** Looks like a JWT (three base64url parts), as opposed to an API key. */
  static boolean looksLikeToken(String credential) {
    return credential.startsWith("eyJ") && credential.chars().filter(c -> c == '.').count() == 2;
  }
}
