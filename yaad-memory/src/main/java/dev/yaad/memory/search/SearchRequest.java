package dev.yaad.memory.search;

import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

/**
 * What to look for in one user's memories.
 *
 * <p>Times the query names ("on 3 October", "in June", "last Friday", "two weeks ago",
 * "پچھلے جمعہ") make memories that happened then rank higher; see {@code docs/search.md}.
 * Relative ones are counted back from {@code at} in {@code zone}: when a conversation is
 * searched later (a replay, an evaluation), give the time the question was asked.
 *
 * @param query      non-blank text, any language, at most {@link Limits#MAX_CONTENT_BYTES} bytes
 * @param k          how many hits at most, 1 to {@link #MAX_K}. The first hits do not depend on
 *                   {@code k}: the top 10 of a search for 50 are the hits of the same search for 10
 * @param categories only these categories; {@code null} or empty for all
 * @param from       only memories whose time ({@code timeField}) is at or after this; {@code null} for no bound
 * @param to         only memories whose time is before this (exclusive); {@code null} for no bound
 * @param timeField  which time {@code from}/{@code to} bound; {@code null} means {@link TimeField#OCCURRED}
 * @param at         when the query is asked, the anchor of "yesterday", "last week", "two weeks
 *                   ago"; {@code null} means now (the search's clock)
 * @param zone       the asker's time zone, in which days, weeks and months are counted;
 *                   {@code null} means UTC
 */
public record SearchRequest(String query, int k, List<String> categories, Instant from, Instant to, TimeField timeField,
    Instant at, ZoneId zone) {
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
    zone = zone == null ? ZoneOffset.UTC : zone;
  }

  /** A request asked now, in UTC (the form before {@code at} and {@code zone} existed). */
  public SearchRequest(String query, int k, List<String> categories, Instant from, Instant to, TimeField timeField) {
    this(query, k, categories, from, to, timeField, null, null);
  }

  public static SearchRequest of(String query, int k) {
    return new SearchRequest(query, k, null, null, null, null, null, null);
  }

  public SearchRequest withCategories(List<String> categories) {
    return new SearchRequest(query, k, categories, from, to, timeField, at, zone);
  }

  public SearchRequest withRange(TimeField field, Instant from, Instant to) {
    return new SearchRequest(query, k, categories, from, to, field, at, zone);
  }

  /** The same request asked at {@code at} in {@code zone} (either {@code null}: now, UTC). */
  public SearchRequest askedAt(Instant at, ZoneId zone) {
    return new SearchRequest(query, k, categories, from, to, timeField, at, zone);
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
