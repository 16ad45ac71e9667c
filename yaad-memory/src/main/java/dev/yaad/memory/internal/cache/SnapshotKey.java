package dev.yaad.memory.internal.cache;

import java.util.List;

/**
 * One snapshot request of a user: its categories exactly as asked (order matters, as it does
 * in the result) and the count per category. Lookups may use the caller's list; keys that are
 * stored hold an immutable copy ({@link #stored}).
 */
record SnapshotKey(List<String> categories, int perCategory) {

  SnapshotKey stored() {
    return new SnapshotKey(List.copyOf(categories), perCategory);
  }

  /** The field of the user's Redis hash; the codec version leads, so a format change never misreads. */
  String field() {
    return "s" + CacheCodec.VERSION + ":" + perCategory + ":" + String.join(",", categories);
  }
}
