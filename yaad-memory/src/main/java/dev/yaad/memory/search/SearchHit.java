package dev.yaad.memory.search;

import dev.yaad.memory.Memory;

/**
 * One search result.
 *
 * @param memory the memory, metadata included
 * @param score  the fused relevance in (0, 1]: 1 would be first in both the dense and the
 *               lexical ranking. Comparable within one search, not across searches.
 */
public record SearchHit(Memory memory, double score) {}
