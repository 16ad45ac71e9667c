package dev.yaad.agent.memory;

import dev.yaad.memory.AddResult;
import dev.yaad.memory.Categories;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memories;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.search.Match;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * {@link MemoryAccess} over the memory engine's front door, {@link Memories}: hybrid search,
 * de-duplicating writes (ADDED / UPDATED / UNCHANGED), and snapshots from its cache, which
 * {@link #preload} warms at call start so that the greeting's and the first tool call's
 * snapshot are cache hits.
 */
public final class MemoriesAccess implements MemoryAccess {
  private final Memories memories;
  private final int perCategory;

  public MemoriesAccess(Memories memories) {
    this(memories, Limits.DEFAULT_PER_CATEGORY);
  }

  /** @param perCategory memories per category in a snapshot, 1 to {@code Limits.MAX_PER_CATEGORY} */
  public MemoriesAccess(Memories memories, int perCategory) {
    if (perCategory < 1 || perCategory > Limits.MAX_PER_CATEGORY) {
      throw new IllegalArgumentException("perCategory must be 1.." + Limits.MAX_PER_CATEGORY + " (was " + perCategory + ")");
    }
    this.memories = memories;
    this.perCategory = perCategory;
  }

  @Override
  public Categories categories() {
    return memories.categories();
  }

  /** Warms the snapshot and the search state without waiting. */
  @Override
  public void preload(String userId) {
    memories.preloadAsync(userId);
  }

  @Override
  public Snapshot snapshot(String userId) {
    try {
      return memories.snapshot(userId, List.of(), perCategory);
    } catch (NotFoundException e) {
      return new Snapshot(userId, Profile.none(userId), Map.of());
    }
  }

  @Override
  public List<Memory> search(String userId, String query, List<String> categories, int k) {
    int bounded = Math.max(1, Math.min(k, SearchRequest.MAX_K));
    return memories.search(userId, SearchRequest.of(query, bounded).withCategories(categories))
        .stream().map(SearchHit::memory).toList();
  }

  @Override
  public Saved save(String userId, String category, String content, Instant begunAt) {
    return saved(memories.add(userId, NewMemory.of(category, content), begunAt));
  }

  @Override
  public List<Saved> saveAll(String userId, List<NewMemory> batch, Instant begunAt) {
    return memories.addAll(userId, batch, begunAt).stream().map(MemoriesAccess::saved).toList();
  }

  private static Saved saved(AddResult result) {
    SaveOutcome outcome = switch (result.outcome()) {
      case ADDED -> SaveOutcome.ADDED;
      case UPDATED -> SaveOutcome.UPDATED;
      case UNCHANGED -> SaveOutcome.UNCHANGED;
    };
    return new Saved(outcome, result.memory());
  }

  @Override
  public List<Memory> matchToForget(String userId, String description) {
    return memories.matchToForget(userId, description).stream().map(Match::memory).toList();
  }

  @Override
  public Optional<Memory> forget(String userId, UUID id) {
    try {
      Memory memory = memories.get(userId, id);
      memories.delete(userId, id);
      return Optional.of(memory);
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  @Override
  public Profile profile(String userId) {
    try {
      return memories.profile(userId);
    } catch (NotFoundException e) {
      return Profile.none(userId);
    }
  }

  @Override
  public Profile putProfile(String userId, String content, long expectedVersion, Instant begunAt) {
    return memories.putProfile(userId, content, expectedVersion, begunAt);
  }
}
