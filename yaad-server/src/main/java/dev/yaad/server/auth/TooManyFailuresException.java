package dev.yaad.server.auth;

import dev.yaad.server.limit.Rate;

/** A client address presented too many invalid credentials lately and must wait (429). */
public final class TooManyFailuresException extends RuntimeException {
  private final long retryAfterSeconds;

  TooManyFailuresException(long retryAfterSeconds, Rate limit) {
    super("too many invalid credentials from this address (the limit is " + limit + "); retry in " + retryAfterSeconds + " s");
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Seconds until one more attempt is let through. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
