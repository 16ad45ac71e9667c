package dev.yaad.memory.store;

import dev.yaad.memory.Categories;
import dev.yaad.memory.ConflictException;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.util.List;
import java.util.UUID;

/**
 * The durable home of users' memories and profiles.
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

  /** Stores one memory, creating the user if needed. */
  Memory add(String userId, NewMemory memory);

  /**
   * Stores all memories in one transaction: either every one is stored or none is.
   * The result is in input order.
   */
  List<Memory> addAll(String userId, List<NewMemory> memories);

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
  Memory update(String userId, UUID id, MemoryPatch patch);

  /** @throws NotFoundException if this user has no memory with that id */
  void delete(String userId, UUID id);

  /**
   * Deletes the user with all their memories and their profile.
   *
   * @throws NotFoundException if the user does not exist
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
  Profile putProfile(String userId, String content, Long expectedVersion);

  /**
   * The profile plus the newest {@code perCategory} memories of each category, read in
   * one database round trip.
   *
   * @param categories categories in the order wanted; empty means all configured ones
   * @param perCategory 1 to {@code Limits.MAX_PER_CATEGORY}
   * @throws NotFoundException if the user does not exist
   */
  Snapshot snapshot(String userId, List<String> categories, int perCategory);

  /** Releases the connection pool. */
  @Override
  void close();
}
