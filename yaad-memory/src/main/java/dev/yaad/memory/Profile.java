package dev.yaad.memory;

import java.time.Instant;

/**
 * The short text about a user that the companion maintains from their memories.
 * Version 0 with {@code null} content means the user has no profile yet.
 */
public record Profile(String userId, String content, long version, Instant updatedAt) {

  public static Profile none(String userId) {
    return new Profile(userId, null, 0, null);
  }

  public boolean exists() {
    return version > 0;
  }
}
