package dev.yaad.memory.search;

import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * What to look for in one user's memories.
 *
 * @param query      non-blank text, any language, at most {@link Limits#MAX_CONTENT_BYTES} bytes
 * @param k          how many hits at most, 1 to {@link #MAX_K}
 * @param categories only these categories; {@code null} or empty for all
 * @param from       only memories whose time ({@code timeField}) is at or after this; {@code null} for no bound
 * @param to         only memories whose time is before this (exclusive); {@code null} for no bound
 * @param timeField  which time {@code from}/{@code to} bound; {@code null} means {@link TimeField#OCCURRED}
 */
public record SearchRequest(String query, int k, List<String> categories, Instant from, Instant to, TimeField timeField) {
  public static final int MAX_K = 100;
  public static final int DEFAULT_K = 10;

  /** The time a range filter applies to. */
  public enum TimeField {
    /** When the remembered thing happened; a memory without that time is judged by when it was written. */
    OCCURRED,
    /** When the memory was written. */
    CREATED
  }

  public SearchRequest {
    categories = categories == null ? List.of() : List.copyOf(categories);
    timeField = timeField == null ? TimeField.OCCURRED : timeField;
  }

  public static SearchRequest of(String query, int k) {
    return new SearchRequest(query, k, null, null, null, null);
  }

  public SearchRequest withCategories(List<String> categories) {
    return new SearchRequest(query, k, categories, from, to, timeField);
  }

  public SearchRequest withRange(TimeField field, Instant from, Instant to) {
    return new SearchRequest(query, k, categories, from, to, field);
  }

  /** @throws InvalidInputException naming the field and the rule */
  public void validate() {
    if (query == null || query.isBlank()) {
      throw new InvalidInputException("query must not be empty");
    }
    int bytes = query.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.MAX_CONTENT_BYTES) {
      throw new InvalidInputException("query is " + bytes + " bytes of UTF-8; the limit is " + Limits.MAX_CONTENT_BYTES);
    }
    if (k < 1 || k > MAX_K) {
      throw new InvalidInputException("k must be between 1 and " + MAX_K + " (was " + k + ")");
    }
    if (from != null && to != null && !from.isBefore(to)) {
      throw new InvalidInputException("'from' (" + from + ") must be before 'to' (" + to + ")");
    }
  }
}
