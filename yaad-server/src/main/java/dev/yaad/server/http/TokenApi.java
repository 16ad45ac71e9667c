package dev.yaad.server.http;

import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.auth.SessionTokens;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.time.Duration;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/v1/tokens {userId, ttlSeconds?}}: an admin (API key) issues a session
 * token for one user, to hand to that person's browser or app.
 */
final class TokenApi {
  private static final Logger log = LoggerFactory.getLogger(TokenApi.class);
  /** The store's rule for user ids (see docs/api.md, limits), checked here so no token names an impossible user. */
  private static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@+-]{0," + (Limits.MAX_USER_ID_LENGTH - 1) + "}");
  static final long MIN_TTL_SECONDS = 60;

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
    if (!USER_ID.matcher(userId).matches()) {
      throw new InvalidInputException("malformed userId '" + userId + "': 1 to " + Limits.MAX_USER_ID_LENGTH
          + " characters of A-Z a-z 0-9 . _ : @ + -, starting with a letter or digit");
    }
    Long ttlSeconds = body.optionalLong("ttlSeconds");
    long ttl = ttlSeconds == null ? AuthConfig.DEFAULT_TOKEN_TTL.toSeconds() : ttlSeconds;
    long max = AuthConfig.MAX_TOKEN_TTL.toSeconds();
    if (ttl < MIN_TTL_SECONDS || ttl > max) {
      throw new InvalidInputException("ttlSeconds must be between " + MIN_TTL_SECONDS + " and " + max + " (was " + ttl + ")");
    }
    SessionTokens.Issued issued = tokens.issue(userId, Duration.ofSeconds(ttl));
    log.debug("auth: issued a session token for user {} until {}", userId, issued.expiresAt());
    ctx.status(HttpStatus.CREATED).json(new TokenView(issued.token(), issued.userId(), issued.expiresAt().toString()));
  }
}
