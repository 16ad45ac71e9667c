package dev.yaad.memory;

import java.util.List;
import java.util.Map;

/**
 * Everything the companion needs at the start of a call: the profile and the newest
 * memories of each requested category (in the requested order; a category without
 * memories maps to an empty list).
 */
public record Snapshot(String userId, Profile profile, Map<String, List<Memory>> memories) {

  public int memoryCount() {
    return memories.values().stream().mapToInt(List::size).sum();
  }
}
