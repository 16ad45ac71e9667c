/**
 * The agent's one port to the memory engine ({@link dev.yaad.agent.memory.MemoryAccess}) and
 * its adapter over the engine's search and de-duplicating write service
 * ({@link dev.yaad.agent.memory.ServiceMemoryAccess}).
 */
package dev.yaad.agent.memory;
