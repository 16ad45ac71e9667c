package dev.yaad.memory.search;

import dev.yaad.memory.Memory;

/**
 * A memory a description matches under a {@link ForgetRule}.
 *
 * @param memory    the memory
 * @param cosine    the similarity of the description's embedding and the memory's
 * @param wordShare the share of the description's distinctive words the memory contains, 0 to 1
 */
public record Match(Memory memory, double cosine, double wordShare) {}
