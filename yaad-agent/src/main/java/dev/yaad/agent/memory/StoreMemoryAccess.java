package dev.yaad.agent.memory;

import dev.yaad.memory.Categories;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.store.MemoryStore;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * {@link MemoryAccess} straight over a {@link MemoryStore}, with no cache and no search
 * index: the interim adapter until the memory engine's search service and cache land.
 *
 * <p>What is interim, and honest about it:
 * <ul>
 *   <li>{@link #search} is a <em>token-overlap scan</em> of the user's newest
 *       {@value #SCAN_LIMIT} memories (read page by page with {@code list}): lexical only, no
 *       vectors, no ranking beyond "how many query words does it contain".</li>
 *   <li>{@link #save} de-duplicates only exact repeats (same category, same text after
 *       Unicode/case/whitespace normalisation) and never returns {@code UPDATED}.</li>
 *   <li>{@link #preload} does nothing; every {@link #snapshot} is one database round trip.</li>
 * </ul>
 */
public final class StoreMemoryAccess implements MemoryAccess {
  static final int SCAN_LIMIT = 500;
  private static final Set<String> STOP_WORDS = Set.of(
      "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "is", "are", "was", "were", "be",
      "my", "me", "i", "you", "your", "it", "that", "this", "do", "did", "what", "about", "with", "we");

  private final MemoryStore store;
  private final int perCategory;

  public StoreMemoryAccess(MemoryStore store) {
    this(store, Limits.DEFAULT_PER_CATEGORY);
  }

  /** @param perCategory memories per category in a snapshot, 1 to {@code Limits.MAX_PER_CATEGORY} */
  public StoreMemoryAccess(MemoryStore store, int perCategory) {
    if (perCategory < 1 || perCategory > Limits.MAX_PER_CATEGORY) {
      throw new IllegalArgumentException("perCategory must be 1.." + Limits.MAX_PER_CATEGORY + " (was " + perCategory + ")");
    }
    this.store = store;
    this.perCategory = perCategory;
  }

  @Override
  public Categories categories() {
    return store.categories();
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
    Set<String> wanted = new HashSet<>();
    for (String c : categories) {
      wanted.add(store.categories().resolve(c));
    }
    Set<String> queryTokens = tokens(query);
    String needle = normalise(query);
    record Scored(Memory memory, double score) {}
    List<Scored> hits = new ArrayList<>();
    for (Memory m : scan(userId, wanted.size() == 1 ? wanted.iterator().next() : null)) {
      if (!wanted.isEmpty() && !wanted.contains(m.category())) {
        continue;
      }
      double score = overlap(queryTokens, tokens(m.content()));
      if (!needle.isEmpty() && normalise(m.content()).contains(needle)) {
        score += 1;
      }
      if (score > 0) {
        hits.add(new Scored(m, score));
      }
    }
    // Stable sort: equal scores keep the scan's newest-first order.
    hits.sort(Comparator.comparingDouble(Scored::score).reversed());
    return hits.stream().limit(Math.max(1, k)).map(Scored::memory).toList();
  }

  @Override
  public Saved save(String userId, String category, String content) {
    String canonical = store.categories().resolve(category);
    String normal = normalise(content);
    for (Memory m : scan(userId, canonical)) {
      if (normalise(m.content()).equals(normal)) {
        return new Saved(SaveOutcome.UNCHANGED, m);
      }
    }
    return new Saved(SaveOutcome.ADDED, store.add(userId, NewMemory.of(canonical, content)));
  }

  @Override
  public Optional<Memory> forget(String userId, UUID id) {
    try {
      Memory m = store.get(userId, id);
      store.delete(userId, id);
      return Optional.of(m);
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

  /** The user's newest memories (of one category, or all), at most {@value #SCAN_LIMIT}. */
  private List<Memory> scan(String userId, String category) {
    List<Memory> all = new ArrayList<>();
    String cursor = null;
    try {
      do {
        Page<Memory> page = store.list(userId, category, Limits.MAX_PAGE_SIZE, cursor);
        all.addAll(page.items());
        cursor = page.nextCursor();
      } while (cursor != null && all.size() < SCAN_LIMIT);
    } catch (NotFoundException e) {
      return List.of();
    }
    return all;
  }

  static String normalise(String text) {
    return Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT).strip().replaceAll("\\s+", " ");
  }

  static Set<String> tokens(String text) {
    Set<String> tokens = new HashSet<>();
    for (String t : normalise(text).split("[^\\p{L}\\p{N}]+")) {
      if (t.length() > 1 && !STOP_WORDS.contains(t)) {
        tokens.add(t);
      }
    }
    return tokens;
  }

  /** Query words found in the memory; a shared prefix of 4+ letters counts ("plans" ~ "planning"). */
  private static double overlap(Set<String> query, Set<String> memory) {
    double score = 0;
    for (String q : query) {
      if (memory.contains(q)) {
        score += 1;
      } else if (q.length() >= 4) {
        String stem = q.substring(0, Math.min(q.length(), 5));
        for (String m : memory) {
          if (m.startsWith(stem) || (m.length() >= 4 && q.startsWith(m))) {
            score += 0.5;
            break;
          }
        }
      }
    }
    return score;
  }
}
