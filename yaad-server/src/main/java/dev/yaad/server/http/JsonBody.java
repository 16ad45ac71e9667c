package dev.yaad.server.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.memory.ExactJson;
import dev.yaad.memory.InvalidInputException;
import io.javalin.http.ContentTooLargeResponse;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.BadMessageException;
import org.eclipse.jetty.io.EofException;

/**
 * A request body: one JSON object whose fields are read with messages that name the field,
 * so every mistake in a request becomes a 400 the caller can act on.
 */
final class JsonBody {
  /**
   * Reads and writes API JSON. Floats are kept as {@code BigDecimal} with their trailing
   * zeros, so metadata such as {@code {"score": 1.10}} comes back exactly as it was sent.
   */
  static final ObjectMapper JSON = ExactJson.newMapper();

  private final ObjectNode node;
  private final String prefix; // "" for the body itself, "memories[3]." inside a batch

  private JsonBody(ObjectNode node, String prefix) {
    this.node = node;
    this.prefix = prefix;
  }

  /**
   * Reads the body of a request that must carry JSON: 415 unless it is declared as
   * {@code application/json} (UTF-8), 413 if it exceeds {@code maxBytes} (whether or not
   * it declares a length), 400 unless it is one well-formed JSON object.
   */
  static JsonBody read(Context ctx, long maxBytes) {
    requireJsonContentType(ctx.contentType());
    long declared = ctx.req().getContentLengthLong();
    if (declared > maxBytes) {
      throw tooLarge(declared, maxBytes);
    }
    byte[] bytes;
    try (InputStream in = ctx.req().getInputStream()) {
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
    } catch (IOException | RuntimeException e) {
      throw unreadable(e);
    }
    if (bytes.length > maxBytes) {
      throw tooLarge(-1, maxBytes);
    }
    if (bytes.length == 0) {
      throw new InvalidInputException("the request body is empty; expected a JSON object");
    }
    JsonNode parsed;
    try {
      parsed = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      // A broken limit (nesting deeper than Jackson allows) has no location.
      JsonLocation at = e.getLocation();
      throw new InvalidInputException("the request body is not valid JSON: " + e.getOriginalMessage()
          + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
    } catch (IOException e) {
      throw new UncheckedIOException("reading the request body failed", e);
    }
    if (parsed == null || !parsed.isObject()) {
      throw new InvalidInputException("the request body must be a JSON object, not " + typeOf(parsed));
    }
    return new JsonBody((ObjectNode) parsed, "");
  }

  /**
   * A body that did not arrive is the client's doing: a {@code 408} when it stalled (Jetty's
   * idle timeout) or trickled (below the minimum data rate), a {@code 400} when the connection
   * ended early. Neither is logged as a failure of the server.
   */
  private static RuntimeException unreadable(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BadMessageException bad) {
        return new HttpResponseException(bad.getCode(), "the request body could not be read: " + bad.getReason()
            + (bad.getCode() == HttpStatus.REQUEST_TIMEOUT.getCode() ? "; send the whole body without pausing" : ""));
      }
      if (t instanceof TimeoutException) {
        return new HttpResponseException(HttpStatus.REQUEST_TIMEOUT.getCode(),
            "the request body stopped arriving before its end; send the whole body without pausing");
      }
      if (t instanceof EofException) {
        return new HttpResponseException(HttpStatus.BAD_REQUEST.getCode(), "the request body ended before its declared length");
      }
    }
    return e instanceof IOException io ? new UncheckedIOException("reading the request body failed", io) : (RuntimeException) e;
  }

  private static void requireJsonContentType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      throw new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
          "the request has no Content-Type; send the body as application/json");
    }
    String[] parts = contentType.split(";");
    boolean json = parts[0].strip().equalsIgnoreCase("application/json");
    boolean utf8 = Arrays.stream(parts).skip(1).map(p -> p.strip().toLowerCase(Locale.ROOT))
        .filter(p -> p.startsWith("charset="))
        .allMatch(p -> p.equals("charset=utf-8") || p.equals("charset=\"utf-8\""));
    if (!json || !utf8) {
      throw new HttpResponseException(HttpStatus.UNSUPPORTED_MEDIA_TYPE.getCode(),
          "Content-Type '" + contentType + "' is not supported; send the body as application/json (UTF-8)");
    }
  }

  private static ContentTooLargeResponse tooLarge(long declared, long maxBytes) {
    return new ContentTooLargeResponse(declared >= 0
        ? "the request body is " + declared + " bytes; the limit is " + maxBytes + " bytes"
        : "the request body is larger than the limit of " + maxBytes + " bytes");
  }

  /** Rejects any field not named here, naming the first unknown one. */
  JsonBody allowOnly(String... fields) {
    Set<String> allowed = Set.of(fields);
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw new InvalidInputException("unknown field '" + prefix + name + "'; expected "
            + (fields.length == 1 ? "only '" + fields[0] + "'" : "some of " + String.join(", ", fields)));
      }
    }
    return this;
  }

  String requiredString(String field) {
    JsonNode value = node.get(field);
    if (value == null) {
      throw new InvalidInputException("field '" + prefix + field + "' is required");
    }
    return string(field, value);
  }

  /** @return {@code null} if the field is absent; a present field must be a string */
  String optionalString(String field) {
    JsonNode value = node.get(field);
    return value == null ? null : string(field, value);
  }

  private String string(String field, JsonNode value) {
    if (!value.isTextual()) {
      throw new InvalidInputException("field '" + prefix + field + "' must be a string, not " + typeOf(value));
    }
    return value.textValue();
  }

  /**
   * @return the object as compact JSON text, {@code null} if absent (or JSON null where
   *     {@code nullAllowed})
   */
  String objectAsText(String field, boolean nullAllowed) {
    JsonNode value = present(field, nullAllowed);
    if (value == null) {
      return null;
    }
    if (!value.isObject()) {
      throw new InvalidInputException("field '" + prefix + field + "' must be a JSON object, not " + typeOf(value));
    }
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write back a parsed JSON object", e);
    }
  }

  /** An ISO-8601 instant such as {@code 2025-03-01T18:30:00Z} or with an offset ({@code +05:00}). */
  Instant instant(String field, boolean nullAllowed) {
    JsonNode value = present(field, nullAllowed);
    if (value == null) {
      return null;
    }
    String text = string(field, value);
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new InvalidInputException("field '" + prefix + field + "' must be an ISO-8601 timestamp with a zone,"
          + " such as 2025-03-01T18:30:00Z or 2025-03-01T23:30:00+05:00 (was '" + text + "')");
    }
  }

  /** @return {@code null} if absent or JSON null; otherwise it must be a whole number */
  Long optionalLong(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw new InvalidInputException("field '" + prefix + field + "' must be a whole number, not " + typeOf(value)
          + (value.isNumber() ? " " + value : ""));
    }
    return value.longValue();
  }

  /** @return {@code null} if absent or JSON null; otherwise it must be an array of strings */
  List<String> optionalStrings(String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isArray()) {
      throw new InvalidInputException("field '" + prefix + field + "' must be an array of strings, not " + typeOf(value));
    }
    List<String> items = new ArrayList<>(value.size());
    for (int i = 0; i < value.size(); i++) {
      if (!value.get(i).isTextual()) {
        throw new InvalidInputException("'" + prefix + field + "[" + i + "]' must be a string, not " + typeOf(value.get(i)));
      }
      items.add(value.get(i).textValue());
    }
    return items;
  }

  /** The elements of a required array of objects, each read with its index in messages. */
  List<JsonBody> requiredObjects(String field) {
    JsonNode value = node.get(field);
    if (value == null) {
      throw new InvalidInputException("field '" + prefix + field + "' is required");
    }
    if (!value.isArray()) {
      throw new InvalidInputException("field '" + prefix + field + "' must be an array, not " + typeOf(value));
    }
    List<JsonBody> items = new ArrayList<>(value.size());
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      String at = prefix + field + "[" + i + "]";
      if (!item.isObject()) {
        throw new InvalidInputException("'" + at + "' must be a JSON object, not " + typeOf(item));
      }
      items.add(new JsonBody((ObjectNode) item, at + "."));
    }
    return items;
  }

  private JsonNode present(String field, boolean nullAllowed) {
    JsonNode value = node.get(field);
    if (value != null && value.isNull()) {
      if (!nullAllowed) {
        throw new InvalidInputException("field '" + prefix + field + "' cannot be null here; omit it to keep the current value");
      }
      return null;
    }
    return value;
  }

  private static String typeOf(JsonNode node) {
    return node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT);
  }
}
