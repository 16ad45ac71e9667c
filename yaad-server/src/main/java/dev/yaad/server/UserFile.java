package dev.yaad.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.memory.ExactJson;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.Profile;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Set;
import java.util.UUID;

/**
 * The JSONL format of {@code yaad users export} and {@code import}: one JSON object per line,
 * {@code {"type":"profile", ...}} for the profile and {@code {"type":"memory", ...}} for each
 * memory, shaped like the REST API's objects. Import reads what export writes; ids and times
 * are informative only (the store assigns new ones), so a file can be edited by hand, unless
 * the import is exact ({@code --exact}): then they are restored as written.
 */
final class UserFile {
  /** Keeps decimals in metadata exactly as written ({@code 0.90} stays {@code 0.90}), as the API does. */
  static final ObjectMapper JSON = ExactJson.newMapper();

  private static final Set<String> MEMORY_FIELDS =
      Set.of("type", "userId", "id", "category", "content", "metadata", "occurredAt", "createdAt", "updatedAt");
  private static final Set<String> PROFILE_FIELDS = Set.of("type", "userId", "content", "version", "updatedAt");

  /** One parsed line: a memory or a profile of {@code userId}. */
  sealed interface Line {
    int number();

    String userId();
  }

  /** A memory; {@code id}, {@code createdAt} and {@code updatedAt} as in the file ({@code null} if absent), for exact restores. */
  record MemoryLine(int number, String userId, NewMemory memory, UUID id, Instant createdAt, Instant updatedAt) implements Line {
    /** The memory exactly as in the file, for {@code import --exact}. */
    Memory exact() {
      if (id == null || createdAt == null || updatedAt == null) {
        throw new BadLine(number, "an exact import needs the memory's id, createdAt and updatedAt (as 'yaad users export' writes them)");
      }
      return new Memory(id, userId, memory.category(), memory.content(), memory.metadata(), memory.occurredAt(), createdAt, updatedAt);
    }
  }

  /** A profile; {@code version} and {@code updatedAt} as in the file ({@code null} if absent), for exact restores. */
  record ProfileLine(int number, String userId, String content, Long version, Instant updatedAt) implements Line {
    /** The profile exactly as in the file, for {@code import --exact}. */
    Profile exact() {
      if (version == null || version < 1 || updatedAt == null) {
        throw new BadLine(number, "an exact import needs the profile's version (1 or more) and updatedAt");
      }
      return new Profile(userId, content, version, updatedAt);
    }
  }

  /** A line that cannot be imported; the message starts with "line N: ". */
  static final class BadLine extends RuntimeException {
    BadLine(int number, String message) {
      super("line " + number + ": " + message);
    }
  }

  private UserFile() {}

  static String line(Profile p) {
    ObjectNode node = JSON.createObjectNode().put("type", "profile").put("userId", p.userId())
        .put("content", p.content()).put("version", p.version());
    node.put("updatedAt", p.updatedAt() == null ? null : p.updatedAt().toString());
    return node.toString();
  }

  static String line(Memory m) {
    ObjectNode node = JSON.createObjectNode().put("type", "memory").put("userId", m.userId()).put("id", m.id().toString())
        .put("category", m.category()).put("content", m.content());
    try {
      node.set("metadata", JSON.readTree(m.metadata()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored metadata of memory " + m.id() + " is not valid JSON", e);
    }
    node.put("occurredAt", text(m.occurredAt())).put("createdAt", text(m.createdAt())).put("updatedAt", text(m.updatedAt()));
    return node.toString();
  }

  /**
   * Parses one line; blank lines are the caller's to skip.
   *
   * @throws BadLine naming the line and what is wrong with it
   */
  static Line parse(int number, String text) {
    JsonNode parsed;
    try {
      parsed = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new BadLine(number, "not valid JSON: " + e.getOriginalMessage());
    }
    if (!(parsed instanceof ObjectNode node)) {
      throw new BadLine(number, "expected one JSON object per line");
    }
    String type = requiredText(number, node, "type");
    Set<String> allowed = switch (type) {
      case "memory" -> MEMORY_FIELDS;
      case "profile" -> PROFILE_FIELDS;
      default -> throw new BadLine(number, "unknown type '" + type + "'; expected 'memory' or 'profile'");
    };
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw new BadLine(number, "unknown field '" + name + "' in a " + type + " line");
      }
    }
    String userId = requiredText(number, node, "userId");
    String content = requiredText(number, node, "content");
    if (type.equals("profile")) {
      JsonNode version = node.get("version");
      if (version != null && !version.isNull() && !version.canConvertToLong()) {
        throw new BadLine(number, "field 'version' must be a whole number");
      }
      return new ProfileLine(number, userId, content, version == null || version.isNull() ? null : version.asLong(),
          instant(number, node, "updatedAt"));
    }
    String category = requiredText(number, node, "category");
    JsonNode metadata = node.get("metadata");
    if (metadata != null && !metadata.isNull() && !metadata.isObject()) {
      throw new BadLine(number, "field 'metadata' must be a JSON object");
    }
    String metadataText = metadata == null || metadata.isNull() ? null : metadata.toString();
    UUID id = null;
    JsonNode idNode = node.get("id");
    if (idNode != null && !idNode.isNull()) {
      try {
        id = UUID.fromString(idNode.asText());
      } catch (IllegalArgumentException e) {
        throw new BadLine(number, "field 'id' must be a UUID (was '" + idNode.asText() + "')");
      }
    }
    return new MemoryLine(number, userId, new NewMemory(category, content, metadataText, instant(number, node, "occurredAt")),
        id, instant(number, node, "createdAt"), instant(number, node, "updatedAt"));
  }

  private static String requiredText(int number, ObjectNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new BadLine(number, "field '" + field + "' is required");
    }
    if (!value.isTextual()) {
      throw new BadLine(number, "field '" + field + "' must be a string");
    }
    return value.asText();
  }

  private static Instant instant(int number, ObjectNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    try {
      return Instant.parse(value.asText());
    } catch (DateTimeParseException e) {
      throw new BadLine(number, "field '" + field + "' must be an ISO-8601 time with a zone, such as 2026-12-20T05:00:00Z (was '"
          + value.asText() + "')");
    }
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
