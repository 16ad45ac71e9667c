/**
 * The agent's one port to the memory engine ({@link dev.yaad.agent.memory.MemoryAccess}) and
 * its interim adapter over the store ({@link dev.yaad.agent.memory.StoreMemoryAccess}).
 */
package dev.yaad.agent.memory;
