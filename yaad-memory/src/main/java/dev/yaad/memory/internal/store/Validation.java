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
import java.util.regex.Pattern;

/** Input rules shared by every store operation; each failure names the field and the rule. */
final class Validation {
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

  static String content(String field, String content) {
    if (content == null || content.isBlank()) {
      throw new InvalidInputException(field + " must not be empty");
    }
    if (content.indexOf('\0') >= 0) {
      throw new InvalidInputException(field + " must not contain the NUL character (U+0000)");
    }
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
      throw new InvalidInputException("metadata must be a JSON object, not " + (node == null ? "nothing" : node.getNodeType().name().toLowerCase()));
    }
    String compact = node.toString();
    int bytes = compact.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > Limits.MAX_METADATA_BYTES) {
      throw new TooLargeException("metadata is " + bytes + " bytes of UTF-8 JSON; the limit is " + Limits.MAX_METADATA_BYTES);
    }
    return compact;
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
