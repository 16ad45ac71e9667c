package dev.yaad.memory.internal.store;

import java.security.SecureRandom;
import java.util.UUID;

/** New memory ids: UUID version 7, so new rows land at the end of the primary-key index. */
final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  static UUID next(long epochMillis) {
    long msb = (epochMillis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
    long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }
}
