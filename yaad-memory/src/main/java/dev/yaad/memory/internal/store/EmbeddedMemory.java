package dev.yaad.memory.internal.store;

import dev.yaad.memory.Memory;

/**
 * A memory with its stored embedding, as the search index and the re-embedding job read it.
 *
 * @param memory    the memory
 * @param embedding its stored embedding, or {@code null} if it has none (written before
 *                  embeddings existed, or its content changed without a new one)
 */
public record EmbeddedMemory(Memory memory, Embedding embedding) {}
