package dev.yaad.memory.internal.store;

import dev.yaad.memory.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;

/** An opaque keyset position in a newest-first listing: the last row's (created_at, id). */
record Cursor(Instant createdAt, UUID id) {

  String encode() {
    long micros = Math.addExact(Math.multiplyExact(createdAt.getEpochSecond(), 1_000_000L), createdAt.getNano() / 1000);
    String raw = micros + ":" + id;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  static Cursor decode(String cursor) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      int colon = raw.indexOf(':');
      long micros = Long.parseLong(raw.substring(0, colon));
      Instant at = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000);
      return new Cursor(at, UUID.fromString(raw.substring(colon + 1)));
    } catch (RuntimeException e) {
      throw new InvalidInputException("malformed cursor '" + cursor + "': pass back a nextCursor exactly as received");
    }
  }
}
