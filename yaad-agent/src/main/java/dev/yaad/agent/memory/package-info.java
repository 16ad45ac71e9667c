/**
 * The agent's one port to the memory engine ({@link dev.yaad.agent.memory.MemoryAccess}) and
 * its adapter over the engine's front door, {@code Memories}
 * ({@link dev.yaad.agent.memory.MemoriesAccess}).
 */
package dev.yaad.agent.memory;
