package dev.yaad.memory.internal.store;

import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import java.util.List;

/**
 * Memories written straight to a store without a vector, as rows written before embeddings
 * existed: what tests of the cache and of the re-embedding job need. Production writes go
 * through {@code Memories}, which gives every memory its vector.
 */
public final class TestWrites {
  private TestWrites() {}

  public static Memory insert(MemoryStore store, String userId, NewMemory memory) {
    return store.write(userId, List.of(new MemoryWrite.Insert(memory, null))).getFirst();
  }

  public static List<Memory> insertAll(MemoryStore store, String userId, List<NewMemory> memories) {
    return store.write(userId, memories.stream().<MemoryWrite>map(m -> new MemoryWrite.Insert(m, null)).toList());
  }
}
