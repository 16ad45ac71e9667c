package dev.yaad.memory.internal.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.Memory;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class CacheCodecTest {
  static final String USER = "user-1";

  static Memory memory(String category, String content, String metadata, Instant occurredAt) {
    return new Memory(UUID.randomUUID(), USER, category, content, metadata, occurredAt,
        Instant.parse("2026-11-27T04:00:00.123456Z"), Instant.parse("2026-11-27T04:00:01.000000789Z"));
  }

  @Test
  void snapshot_roundTripsExactly_inCategoryOrder() throws IOException {
    Map<String, List<Memory>> memories = new LinkedHashMap<>();
    memories.put("GOAL", List.of(memory("GOAL", "learn the sitar 🎵 \"properly\"\n", "{\"a\":[1,2.10,\"x\"]}", null)));
    memories.put("FACT", List.of(
        memory("FACT", "میرا نام عائشہ ہے \u200F(چائے)\u200E", "{}", Instant.parse("0001-01-01T00:00:00Z")),
        memory("FACT", "born long ago", "{}", Instant.parse("1969-07-20T20:17:40.5Z"))));
    memories.put("PLAN", List.of());
    Snapshot snapshot = new Snapshot(USER, new Profile(USER, "Aisha", 7, Instant.parse("2026-01-02T03:04:05.000006Z")), memories);

    Snapshot decoded = CacheCodec.snapshot(CacheCodec.write(snapshot));

    assertThat(decoded).isEqualTo(snapshot);
    assertThat(decoded.memories().keySet()).containsExactly("GOAL", "FACT", "PLAN");
    assertThatThrownBy(() -> decoded.memories().get("FACT").clear()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void profile_roundTrips_includingNoProfileYet() throws IOException {
    Profile none = Profile.none(USER);
    Profile some = new Profile(USER, "likes chai", 3, Instant.parse("2026-11-27T04:00:00.000001Z"));
    assertThat(CacheCodec.profile(USER, CacheCodec.write(none))).isEqualTo(none);
    assertThat(CacheCodec.profile(USER, CacheCodec.write(some))).isEqualTo(some);
    Snapshot empty = new Snapshot(USER, none, Map.of());
    assertThat(CacheCodec.snapshot(CacheCodec.write(empty))).isEqualTo(empty);
  }

  @Test
  void snapshot_rejectsAnotherFormat() {
    assertThatThrownBy(() -> CacheCodec.snapshot("{\"userId\":\"x\"}")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> CacheCodec.snapshot("[1,2]")).isInstanceOf(IOException.class);
  }
}
