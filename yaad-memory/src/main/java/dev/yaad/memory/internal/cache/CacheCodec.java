package dev.yaad.memory.internal.cache;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SegmentedStringWriter;
import com.fasterxml.jackson.core.util.BufferRecycler;
import dev.yaad.memory.Memory;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Cached values as compact JSON in Redis, written and read with Jackson's streaming API, and
 * the freezing of values handed to several callers.
 *
 * <p>An L2 hit pays for decoding on every read, so the format is positional and instants are
 * {@code [epochSecond, nano]} pairs: decoding a 40-memory snapshot this way is several times
 * faster than data binding with ISO-8601 instants. A snapshot is
 * {@code {"u":userId,"p":profile,"m":{"CATEGORY":[memory,...],...}}}, a profile is
 * {@code [content, version, second, nano]} and a memory is
 * {@code [id, category, content, metadata, occurred second, nano, created second, nano, updated second, nano]}
 * ({@code null}s where absent). Any change to the format bumps {@link #VERSION}, which is part
 * of every Redis field name, so processes of two versions sharing one Redis never misread each
 * other during a rolling deploy.
 */
final class CacheCodec {
  static final int VERSION = 2;
  static final String PROFILE_FIELD = "p" + VERSION;

  private static final JsonFactory JSON = JsonFactory.builder().build();

  private CacheCodec() {}

  static String write(Snapshot s) {
    try (SegmentedStringWriter out = new SegmentedStringWriter(new BufferRecycler());
        JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("u", s.userId());
      g.writeFieldName("p");
      writeProfile(g, s.profile());
      g.writeObjectFieldStart("m");
      for (Map.Entry<String, List<Memory>> category : s.memories().entrySet()) {
        g.writeArrayFieldStart(category.getKey());
        for (Memory m : category.getValue()) {
          g.writeStartArray();
          g.writeString(m.id().toString());
          g.writeString(m.category());
          g.writeString(m.content());
          g.writeString(m.metadata());
          writeInstant(g, m.occurredAt());
          writeInstant(g, m.createdAt());
          writeInstant(g, m.updatedAt());
          g.writeEndArray();
        }
        g.writeEndArray();
      }
      g.writeEndObject();
      g.writeEndObject();
      g.flush();
      return out.getAndClear();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise the snapshot of user '" + s.userId() + "' for the cache", e);
    }
  }

  static String write(Profile p) {
    try (SegmentedStringWriter out = new SegmentedStringWriter(new BufferRecycler());
        JsonGenerator g = JSON.createGenerator(out)) {
      writeProfile(g, p);
      g.flush();
      return out.getAndClear();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise the profile of user '" + p.userId() + "' for the cache", e);
    }
  }

  /** @throws IOException if {@code json} is not a snapshot in this format */
  static Snapshot snapshot(String json) throws IOException {
    try (JsonParser p = JSON.createParser(json)) {
      expect(p, JsonToken.START_OBJECT);
      String userId = null;
      Profile profile = null;
      Map<String, List<Memory>> memories = new LinkedHashMap<>();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        switch (field) {
          case "u" -> userId = p.nextTextValue();
          case "p" -> {
            p.nextToken();
            profile = readProfile(p, userId);
          }
          case "m" -> {
            expect(p, JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
              String category = p.currentName();
              expect(p, JsonToken.START_ARRAY);
              List<Memory> list = new ArrayList<>();
              while (p.nextToken() == JsonToken.START_ARRAY) {
                list.add(readMemory(p, userId));
              }
              memories.put(category, Collections.unmodifiableList(list));
            }
          }
          default -> throw new IOException("unknown field '" + field + "' in a cached snapshot");
        }
      }
      if (userId == null || profile == null) {
        throw new IOException("a cached snapshot lacks its user or profile");
      }
      return new Snapshot(userId, profile, Collections.unmodifiableMap(memories));
    }
  }

  /** @throws IOException if {@code json} is not a profile in this format */
  static Profile profile(String userId, String json) throws IOException {
    try (JsonParser p = JSON.createParser(json)) {
      p.nextToken();
      return readProfile(p, userId);
    }
  }

  /**
   * The same snapshot with unmodifiable collections: a cached value is shared by every caller,
   * so none of them may change it for the others.
   */
  static Snapshot freeze(Snapshot s) {
    Map<String, List<Memory>> memories = new LinkedHashMap<>();
    s.memories().forEach((category, list) -> memories.put(category, List.copyOf(list)));
    return new Snapshot(s.userId(), s.profile(), Collections.unmodifiableMap(memories));
  }

  private static void writeProfile(JsonGenerator g, Profile p) throws IOException {
    g.writeStartArray();
    g.writeString(p.content());
    g.writeNumber(p.version());
    writeInstant(g, p.updatedAt());
    g.writeEndArray();
  }

  private static Profile readProfile(JsonParser p, String userId) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw new IOException("a cached profile is not an array");
    }
    String content = p.nextTextValue();
    p.nextToken();
    long version = p.getLongValue();
    Instant updatedAt = readInstant(p);
    expect(p, JsonToken.END_ARRAY);
    return new Profile(userId, content, version, updatedAt);
  }

  private static Memory readMemory(JsonParser p, String userId) throws IOException {
    UUID id = UUID.fromString(p.nextTextValue());
    String category = p.nextTextValue();
    String content = p.nextTextValue();
    String metadata = p.nextTextValue();
    Instant occurredAt = readInstant(p);
    Instant createdAt = readInstant(p);
    Instant updatedAt = readInstant(p);
    expect(p, JsonToken.END_ARRAY);
    return new Memory(id, userId, category, content, metadata, occurredAt, createdAt, updatedAt);
  }

  private static void writeInstant(JsonGenerator g, Instant instant) throws IOException {
    if (instant == null) {
      g.writeNull();
      g.writeNull();
    } else {
      g.writeNumber(instant.getEpochSecond());
      g.writeNumber(instant.getNano());
    }
  }

  private static Instant readInstant(JsonParser p) throws IOException {
    if (p.nextToken() == JsonToken.VALUE_NULL) {
      p.nextToken();
      return null;
    }
    long seconds = p.getLongValue();
    p.nextToken();
    return Instant.ofEpochSecond(seconds, p.getIntValue());
  }

  private static void expect(JsonParser p, JsonToken token) throws IOException {
    if (p.nextToken() != token) {
      throw new IOException("expected " + token + " but found " + p.currentToken() + " in a cached value");
    }
  }
}
