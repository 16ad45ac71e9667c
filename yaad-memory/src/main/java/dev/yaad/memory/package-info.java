/**
 * Yaad's memory engine: {@link dev.yaad.memory.Memories} is its one front door; beside it the
 * model ({@link dev.yaad.memory.Memory}, {@link dev.yaad.memory.Snapshot},
 * {@link dev.yaad.memory.Profile}...), the errors ({@link dev.yaad.memory.MemoryException} and
 * its subclasses) and the configuration types of {@code store}, {@code cache} and
 * {@code search}. Embedding models are in {@code embed}; {@code outage} logs a remote
 * provider's outages (the embeddings client here, the agent's LLM client). Everything under
 * {@code internal} is the engine itself, not API.
 */
package dev.yaad.memory;
