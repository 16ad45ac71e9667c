package dev.yaad.memory.internal.store;

import java.time.Instant;

/**
 * What a reader saw of a user's memories, cheap to compare with the database: how many there
 * were and when the newest change was made. An insert changes the count, a delete the count,
 * an update the time (the store's times only grow within a process); so a decision made from a
 * read (de-duplication, from the search index) can be checked against the database in the write
 * transaction by {@link MemoryStore#write(String, java.util.List, UserState, Instant)}.
 *
 * @param memories    the user's memories
 * @param lastUpdated the latest {@code updatedAt} among them, or {@code null} if there are none
 */
public record UserState(long memories, Instant lastUpdated) {}
