package dev.yaad.memory;

import java.time.Instant;

/**
 * A memory to be written. The store assigns the id and the timestamps.
 *
 * @param category   a configured category name (case-insensitive)
 * @param content    non-blank text of at most {@link Limits#MAX_CONTENT_BYTES} UTF-8 bytes
 * @param metadata   a JSON object as text, or {@code null} for {@code {}}
 * @param occurredAt when it happened, or {@code null}
 */
public record NewMemory(String category, String content, String metadata, Instant occurredAt) {

  public static NewMemory of(String category, String content) {
    return new NewMemory(category, content, null, null);
  }
}
