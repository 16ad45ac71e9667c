package dev.yaad.memory.internal.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.yaad.memory.ExactJson;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import dev.yaad.memory.TooLargeException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Input rules shared by every store operation; each failure names the field and the rule. The
 * write path ({@code MemoryService}) applies {@link #content} too, before the embedding model
 * sees a text.
 */
public final class Validation {
  private static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@+-]{0," + (Limits.MAX_USER_ID_LENGTH - 1) + "}");
  private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");
  private static final ObjectMapper JSON = ExactJson.newMapper();

  private Validation() {}

  static String userId(String userId) {
    if (userId == null || !USER_ID.matcher(userId).matches()) {
      throw new InvalidInputException("malformed user id '" + userId + "': 1-" + Limits.MAX_USER_ID_LENGTH
          + " characters of A-Z a-z 0-9 . _ : @ + -, starting with a letter or digit");
    }
    return userId;
  }

  /**
   * Not blank, no NUL, well-formed UTF-16 (no lone surrogate), at most
   * {@link Limits#MAX_CONTENT_BYTES} of UTF-8.
   *
   * @throws InvalidInputException naming {@code field} and the rule
   * @throws TooLargeException if it is too long
   */
  public static String content(String field, String content) {
    if (content == null || content.isBlank()) {
      throw new InvalidInputException(field + " must not be empty");
    }
    if (content.indexOf('\0') >= 0) {
      throw new InvalidInputException(field + " must not contain the NUL character (U+0000)");
    }
    wellFormed(field, content);
    int bytes = content.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.MAX_CONTENT_BYTES) {
      throw new TooLargeException(field + " is " + bytes + " bytes of UTF-8; the limit is " + Limits.MAX_CONTENT_BYTES);
    }
    return content;
  }

  /** @return the metadata as compact JSON text; {@code "{}"} for null */
  static String metadata(String metadata) {
    if (metadata == null) {
      return "{}";
    }
    JsonNode node;
    try {
      node = JSON.readTree(metadata);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException("metadata is not valid JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new InvalidInputException("metadata must be a JSON object, not " + (node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT)));
    }
    String compact = node.toString();
    wellFormed("metadata", compact);
    int bytes = compact.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.MAX_METADATA_BYTES) {
      throw new TooLargeException("metadata is " + bytes + " bytes of UTF-8 JSON; the limit is " + Limits.MAX_METADATA_BYTES);
    }
    return compact;
  }

  /**
   * Refuses a lone UTF-16 surrogate (JSON lets {@code "\\ud800"} through): it has no UTF-8 form,
   * so the database would keep a {@code ?} instead, and content is promised back byte for byte.
   */
  static void wellFormed(String field, String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!Character.isSurrogate(c)) {
        continue;
      }
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
        continue;
      }
      throw new InvalidInputException(field + " contains a lone UTF-16 surrogate (U+" + Integer.toHexString(c).toUpperCase(Locale.ROOT)
          + ") at character " + i + ", which is not Unicode text and cannot be stored; send well-formed text");
    }
  }

  static Instant occurredAt(Instant occurredAt) {
    if (occurredAt != null && (occurredAt.isBefore(EARLIEST) || occurredAt.isAfter(LATEST))) {
      throw new InvalidInputException("occurredAt " + occurredAt + " is outside years 0001-9999");
    }
    return occurredAt;
  }

  static int range(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new InvalidInputException(field + " must be between " + min + " and " + max + " (was " + value + ")");
    }
    return value;
  }
}
