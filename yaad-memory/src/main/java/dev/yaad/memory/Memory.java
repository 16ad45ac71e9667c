package dev.yaad.memory;

import java.time.Instant;
import java.util.UUID;

/**
 * One thing the companion remembers about a user.
 *
 * @param id         time-ordered identifier, unique across users
 * @param userId     the owner; every operation is scoped to exactly one user
 * @param category   one of the store's configured {@link Categories}, upper case
 * @param content    the text, any language, stored and returned byte-exact
 * @param metadata   a JSON object as compact text, returned as it was given
 * @param occurredAt when the remembered thing happened, or {@code null} if unknown
 * @param createdAt  when the memory was first written
 * @param updatedAt  when the memory was last changed
 */
public record Memory(
    UUID id,
    String userId,
    String category,
    String content,
    String metadata,
    Instant occurredAt,
    Instant createdAt,
    Instant updatedAt) {

  /**
   * A memory id as written in a URL or a file.
   *
   * @throws InvalidInputException naming the text, if it is not a UUID
   */
  public static UUID parseId(String text) {
    try {
      if (text == null || text.length() != 36) {
        throw new IllegalArgumentException();
      }
      return UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("malformed memory id '" + text + "': expected a UUID such as 0190f3c2-7b1e-7c4a-9d2e-3f4a5b6c7d8e");
    }
  }
}
