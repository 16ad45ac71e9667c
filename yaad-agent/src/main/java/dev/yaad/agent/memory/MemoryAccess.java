package dev.yaad.agent.memory;

import dev.yaad.memory.Categories;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What the agent needs from the memory engine: the one port that sessions, tools and the
 * learner use, so that the engine (store, search, cache) can change behind it.
 *
 * <p>Every method is scoped to one user id, which the agent takes from the session, never
 * from the model. A user with no data yet has an empty snapshot, not an error.
 * Failures are {@code dev.yaad.memory.MemoryException}s; {@code isRetriable()} says whether
 * trying again later may succeed. Implementations are thread-safe.
 */
public interface MemoryAccess {

  /** The categories memories may have. */
  Categories categories();

  /**
   * Warms whatever makes {@link #snapshot} fast for this user (a cache), returning at once.
   * Called when a call starts; the default does nothing.
   */
  default void preload(String userId) {}

  /**
   * The profile and the newest memories of every category, for greeting and for the
   * {@code getCompleteUserInfo} tool. Empty (profile {@link Profile#none}) for a new user.
   */
  Snapshot snapshot(String userId);

  /**
   * The user's memories most relevant to {@code query}, best first.
   *
   * @param categories categories to search in; empty for all
   * @param k          at most this many results, at least 1
   */
  List<Memory> search(String userId, String query, List<String> categories, int k);

  /**
   * Remembers {@code content}, de-duplicating: the same fact again is {@link SaveOutcome#UNCHANGED},
   * a fact that corrects one already stored {@link SaveOutcome#UPDATED} it.
   *
   * @param begunAt when the work that writes began (the turn was queued, the session opened): a
   *                user deleted at or after it is never written for again
   * @throws dev.yaad.memory.UserDeletedException if the user was deleted at or after {@code begunAt}
   */
  Saved save(String userId, String category, String content, Instant begunAt);

  /**
   * {@link #save} for several memories at once, as one write (embedded together, de-duplicated
   * against the stored ones and each other, stored all or nothing): what the learner does with
   * an extraction's results. The default saves them one by one.
   *
   * @param memories category and content of each
   * @param begunAt  as for {@link #save}
   * @return one result per memory, in order
   * @throws dev.yaad.memory.UserDeletedException if the user was deleted at or after {@code begunAt}
   */
  default List<Saved> saveAll(String userId, List<NewMemory> memories, Instant begunAt) {
    List<Saved> saved = new ArrayList<>(memories.size());
    for (NewMemory m : memories) {
      saved.add(save(userId, m.category(), m.content(), begunAt));
    }
    return saved;
  }

  /**
   * The memories {@code description} names well enough to forget: empty (nothing matches: ask
   * the user), one (the memory meant), or several close ones, best first (ask which). Words and
   * meaning must both agree; it never falls back to the best search hit.
   */
  List<Memory> matchToForget(String userId, String description);

  /** Deletes one memory; empty if the user has no memory with that id. */
  Optional<Memory> forget(String userId, UUID id);

  /** The current profile, {@link Profile#none} if there is none. */
  Profile profile(String userId);

  /**
   * Replaces the profile if its version is still {@code expectedVersion}.
   *
   * @param begunAt when the refresh was asked for; see {@link #save}
   * @throws dev.yaad.memory.ConflictException if it changed meanwhile
   * @throws dev.yaad.memory.UserDeletedException if the user was deleted at or after {@code begunAt}
   */
  Profile putProfile(String userId, String content, long expectedVersion, Instant begunAt);

  /** What a write did. */
  enum SaveOutcome { ADDED, UPDATED, UNCHANGED }

  /** The result of {@link #save}: the outcome and the memory as stored now. */
  record Saved(SaveOutcome outcome, Memory memory) {
    public boolean changed() {
      return outcome != SaveOutcome.UNCHANGED;
    }
  }
}
