package dev.yaad.memory.internal.store;

import dev.yaad.memory.InvalidInputException;
import java.security.SecureRandom;
import java.util.UUID;

/** Memory ids: UUID version 7, so new rows land at the end of the primary-key index. */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  static UUID next(long epochMillis) {
    long msb = (epochMillis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
    long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }

  /**
   * @throws InvalidInputException if the text is not a UUID
   */
  public static UUID parse(String text) {
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
