package dev.yaad.memory;

import java.time.Instant;

/**
 * A partial update of a memory: every {@code null} field is left as it is.
 * An empty patch is rejected as invalid input.
 */
public record MemoryPatch(String category, String content, String metadata, Instant occurredAt) {

  public boolean isEmpty() {
    return category == null && content == null && metadata == null && occurredAt == null;
  }
}
