package dev.yaad.memory.cache;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.yaad.memory.Memory;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cached values as JSON in Redis, and the freezing of values handed to several callers.
 * Instants are ISO-8601 text, exact to the nanosecond. Unknown properties are ignored so that
 * processes of neighbouring versions can share one Redis during a rolling deploy; an
 * incompatible change bumps {@link #VERSION}, which is part of every field name.
 */
final class CacheCodec {
  static final int VERSION = 1;
  static final String PROFILE_FIELD = "p" + VERSION;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .addModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
      .build();

  private CacheCodec() {}

  static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName() + " for the cache", e);
    }
  }

  static Snapshot snapshot(String json) throws JsonProcessingException {
    return freeze(JSON.readValue(json, Snapshot.class));
  }

  static Profile profile(String json) throws JsonProcessingException {
    return JSON.readValue(json, Profile.class);
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
}
