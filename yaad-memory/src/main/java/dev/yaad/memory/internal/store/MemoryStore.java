package dev.yaad.memory.internal.store;

import dev.yaad.memory.Categories;
import dev.yaad.memory.ConflictException;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The durable home of users' memories and profiles, behind {@link dev.yaad.memory.Memories}.
 *
 * <p>Every method is scoped to one user id and never reads or changes another user's data.
 * Users come into being with their first memory or profile. Every method validates its
 * input before touching the database and throws {@link InvalidInputException} (or its
 * subclass {@code TooLargeException}) naming the field and the rule; a failing call
 * writes nothing. Database failures surface as {@code StoreUnavailableException} when a
 * retry may help (no connection, deadlock, shutdown) and {@code StoreFailedException} when not.
 * Implementations are thread-safe.
 */
public interface MemoryStore extends AutoCloseable {

  /** The categories this store accepts. */
  Categories categories();

  /** @throws NotFoundException if this user has no memory with that id */
  Memory get(String userId, UUID id);

  /**
   * Lists a user's memories newest first.
   *
   * @param category a category, or {@code null} for all
   * @param limit    1 to {@code Limits.MAX_PAGE_SIZE}
   * @param cursor   {@code null} for the first page, else a previous page's {@code nextCursor}
   * @throws NotFoundException if the user does not exist
   */
  Page<Memory> list(String userId, String category, int limit, String cursor);

  /** @throws NotFoundException if this user has no memory with that id */
  void delete(String userId, UUID id);

  /**
   * Deletes every row of the user (memories, profile, the learning outbox's turns, the user)
   * and writes a tombstone, in one transaction; see {@code Memories#deleteUser}.
   *
   * @throws NotFoundException if nothing was stored for the user (the tombstone is written all the same)
   */
  void deleteUser(String userId);

  /**
   * @return the profile, or {@link Profile#none} if the user has none yet
   * @throws NotFoundException if the user does not exist
   */
  Profile profile(String userId);

  /**
   * Replaces the profile text and increments its version, creating the user if needed.
   *
   * @param expectedVersion {@code null} to write unconditionally, else the version the
   *     caller read (0 for "no profile yet")
   * @throws ConflictException if {@code expectedVersion} is not the current version
   */
  default Profile putProfile(String userId, String content, Long expectedVersion) {
    return putProfile(userId, content, expectedVersion, null);
  }

  /**
   * {@link #putProfile(String, String, Long)} on behalf of work that began at {@code begunAt}
   * ({@code null}: no such condition).
   *
   * @throws dev.yaad.memory.UserDeletedException if the user was deleted at or after {@code begunAt}
   */
  Profile putProfile(String userId, String content, Long expectedVersion, Instant begunAt);

  /**
   * The profile plus the newest {@code perCategory} memories of each category, read in
   * one database round trip.
   *
   * @param categories categories in the order wanted; empty means all configured ones
   * @param perCategory 1 to {@code Limits.MAX_PER_CATEGORY}
   * @throws NotFoundException if the user does not exist
   */
  Snapshot snapshot(String userId, List<String> categories, int perCategory);

  // --- writes and embeddings ------------------------------------------------------------

  /**
   * Applies inserts and updates with their embeddings in one transaction, creating the user
   * if needed: either every write is applied or none is. Each write is validated (category,
   * content, metadata, time), with messages prefixed {@code writes[i].} when there is more
   * than one write. This is the only way to write memories, so a caller always says which
   * embedding each one carries: the write path of {@code Memories} gives every memory one; a
   * {@code null} embedding (a row written as if before embeddings existed) is only for tests
   * of the re-embedding job.
   *
   * @return the resulting memories, in input order
   * @throws NotFoundException if an update names a memory this user does not have
   */
  default List<Memory> write(String userId, List<MemoryWrite> writes) {
    return write(userId, writes, null, null);
  }

  /**
   * {@link #write(String, List)} under conditions checked inside the write's transaction, which
   * then holds the user's lock (shared with {@link #deleteUser}; on PostgreSQL a
   * transaction-scoped advisory lock, taken first, so it serialises processes too):
   *
   * <ul>
   *   <li>{@code seen} (or {@code null}): the writes were decided from this read of the user
   *       (de-duplication, from the search index) and apply only if the user's memories are
   *       still so;
   *   <li>{@code begunAt} (or {@code null}): on behalf of work that began then (a turn queued,
   *       a session opened); refused if the user was deleted at or after it, so a deletion that
   *       committed first always wins.
   * </ul>
   *
   * @throws StaleStateException if the memories changed since {@code seen} (another process
   *     wrote): nothing was written
   * @throws dev.yaad.memory.UserDeletedException if the user was deleted at or after {@code begunAt}
   */
  List<Memory> write(String userId, List<MemoryWrite> writes, UserState seen, Instant begunAt);

  /**
   * Restores a user exactly as exported: each memory with its own id and times, the profile
   * with its version and time, in one transaction (all or nothing). For faithful backups
   * ({@code yaad users import --exact}); {@link #write} assigns ids and times itself. Each
   * memory is validated as an insert of {@link #write} is, messages prefixed {@code memories[i].}.
   *
   * @param embeddings one per memory (or {@code null} for none), stored with it
   * @param profile    the profile to restore, or {@code null} for none
   * @return the restored memories, in input order
   * @throws ConflictException if the user already exists (restore into a fresh user: delete it
   *     first), or a memory id is taken
   */
  List<Memory> restore(String userId, List<Memory> memories, List<Embedding> embeddings, Profile profile);

  /**
   * Every memory of the user with its stored embedding (or {@code null}), oldest first, read
   * in one query: what a search index is built from. An unknown user has none.
   */
  List<EmbeddedMemory> embeddedMemories(String userId);

  /**
   * Memories of any user whose stored embedding is missing or of a model other than
   * {@code modelId}, in id order, for a re-embedding job.
   *
   * @param afterId {@code null} to start, else the last id of the previous batch
   * @param limit   1 to {@code Limits.MAX_BATCH_SIZE}
   */
  List<EmbeddedMemory> staleEmbeddings(String modelId, UUID afterId, int limit);

  /**
   * Stores each given embedding on its memory, but only while that memory is unchanged
   * since it was read (same user, id and {@code updatedAt}), so a concurrent edit is never
   * overwritten with a vector of the old text. Leaves {@code updatedAt} as it is.
   *
   * @return how many memories were changed
   */
  int putEmbeddings(List<EmbeddedMemory> embeddings);

  /** Releases the connection pool. */
  @Override
  void close();
}
