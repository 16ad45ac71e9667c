package dev.yaad.server.http;

import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import dev.yaad.server.auth.Access;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.auth.SessionTokens;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/v1/tokens {userId, ttlSeconds?}}: an admin (API key) issues a session
 * token for one user, to hand to that person's browser or app.
 */
final class TokenApi {
  private static final Logger log = LoggerFactory.getLogger(TokenApi.class);

  private final SessionTokens tokens;
  private final long maxBodyBytes;

  TokenApi(SessionTokens tokens, long maxBodyBytes) {
    this.tokens = tokens;
    this.maxBodyBytes = maxBodyBytes;
  }

  record TokenView(String token, String userId, String expiresAt) {}

  void issue(Context ctx) {
    JsonBody body = JsonBody.read(ctx, maxBodyBytes).allowOnly("userId", "ttlSeconds");
    String userId = body.requiredString("userId");
    // The store's rule for user ids, checked here so that no token names an impossible user.
    if (!Access.USER_ID.matcher(userId).matches()) {
      throw new InvalidInputException("malformed userId '" + userId + "': 1 to " + Limits.MAX_USER_ID_LENGTH
          + " characters of A-Z a-z 0-9 . _ : @ + -, starting with a letter or digit");
    }
    Long ttlSeconds = body.optionalLong("ttlSeconds");
    long max = tokens.maxTtl().toSeconds();
    long ttl = ttlSeconds == null ? Math.min(AuthConfig.DEFAULT_TOKEN_TTL.toSeconds(), max) : ttlSeconds;
    long min = AuthConfig.MIN_TOKEN_TTL.toSeconds();
    if (ttl < min || ttl > max) {
      throw new InvalidInputException("ttlSeconds must be between " + min + " and " + max + " (the longest lifetime this server"
          + " allows, --max-token-ttl) (was " + ttl + ")");
    }
    SessionTokens.Issued issued = tokens.issue(userId, Duration.ofSeconds(ttl));
    log.debug("auth: issued a session token for user {} until {}", userId, issued.expiresAt());
    ctx.status(HttpStatus.CREATED).json(new TokenView(issued.token(), issued.userId(), issued.expiresAt().toString()));
  }
}
