package dev.yaad.agent.memory;

import dev.yaad.memory.AddResult;
import dev.yaad.memory.Categories;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.internal.MemoryService;
import dev.yaad.memory.internal.cache.CachingMemoryStore;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link MemoryAccess} over the memory engine's {@link MemoryService}: hybrid search,
 * de-duplicating writes (ADDED / UPDATED / UNCHANGED) that keep the search index current,
 * and snapshots from the service's store — which is the caching store in a server, so a
 * {@link #preload} at call start makes the greeting's and the first tool call's snapshot a
 * cache hit.
 */
public final class ServiceMemoryAccess implements MemoryAccess {
  private static final Logger log = LoggerFactory.getLogger(ServiceMemoryAccess.class);

  private final MemoryService service;
  private final MemoryStore store;
  private final int perCategory;

  public ServiceMemoryAccess(MemoryService service) {
    this(service, Limits.DEFAULT_PER_CATEGORY);
  }

  /** @param perCategory memories per category in a snapshot, 1 to {@code Limits.MAX_PER_CATEGORY} */
  public ServiceMemoryAccess(MemoryService service, int perCategory) {
    if (perCategory < 1 || perCategory > Limits.MAX_PER_CATEGORY) {
      throw new IllegalArgumentException("perCategory must be 1.." + Limits.MAX_PER_CATEGORY + " (was " + perCategory + ")");
    }
    this.service = service;
    this.store = service.store();
    this.perCategory = perCategory;
  }

  @Override
  public Categories categories() {
    return store.categories();
  }

  /**
   * Warms the snapshot and the search state without waiting: through the caching store's
   * preload (whose hook loads the search state) when there is one, else on a virtual thread.
   */
  @Override
  public void preload(String userId) {
    if (store instanceof CachingMemoryStore cache) {
      cache.preloadAsync(userId);
      return;
    }
    Thread.ofVirtual().name("yaad-preload").start(() -> {
      try {
        snapshot(userId);
        service.preload(userId);
      } catch (RuntimeException e) {
        log.debug("memory: preload for a user failed; the first call will load instead: {}", e.toString());
      }
    });
  }

  @Override
  public Snapshot snapshot(String userId) {
    try {
      return store.snapshot(userId, List.of(), perCategory);
    } catch (NotFoundException e) {
      return new Snapshot(userId, Profile.none(userId), Map.of());
    }
  }

  @Override
  public List<Memory> search(String userId, String query, List<String> categories, int k) {
    int bounded = Math.max(1, Math.min(k, SearchRequest.MAX_K));
    return service.search(userId, SearchRequest.of(query, bounded).withCategories(categories))
        .stream().map(SearchHit::memory).toList();
  }

  @Override
  public Saved save(String userId, String category, String content) {
    AddResult result = service.add(userId, NewMemory.of(category, content));
    SaveOutcome outcome = switch (result.outcome()) {
      case ADDED -> SaveOutcome.ADDED;
      case UPDATED -> SaveOutcome.UPDATED;
      case UNCHANGED -> SaveOutcome.UNCHANGED;
    };
    return new Saved(outcome, result.memory());
  }

  @Override
  public Optional<Memory> forget(String userId, UUID id) {
    try {
      Memory memory = store.get(userId, id);
      service.delete(userId, id);
      return Optional.of(memory);
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  @Override
  public Profile profile(String userId) {
    try {
      return store.profile(userId);
    } catch (NotFoundException e) {
      return Profile.none(userId);
    }
  }

  @Override
  public Profile putProfile(String userId, String content, long expectedVersion) {
    return store.putProfile(userId, content, expectedVersion);
  }
}
