package dev.yaad.memory.internal.store;

import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import java.util.Objects;
import java.util.UUID;

/**
 * One change in a batch that {@code MemoryStore.write} applies in a single transaction,
 * each with the embedding of the memory's resulting text.
 */
public sealed interface MemoryWrite {

  /** Inserts a new memory; {@code embedding} may be {@code null} (stored without one). */
  record Insert(NewMemory memory, Embedding embedding) implements MemoryWrite {}

  /**
   * Changes an existing memory, as {@code MemoryStore.update} does. A non-null
   * {@code embedding} replaces the stored one (it must embed the resulting content); a
   * {@code null} one keeps it, unless the content changes, in which case the stale vector is
   * cleared rather than kept.
   */
  record Update(UUID id, MemoryPatch patch, Embedding embedding) implements MemoryWrite {
    public Update {
      Objects.requireNonNull(id, "id");
    }
  }
}
