package dev.yaad.memory.internal.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.yaad.memory.Memory;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * L1: one Caffeine entry per user holding that user's cached profile and snapshot variants, so
 * that invalidating a user is one O(1) removal.
 *
 * <p>Stale fills are refused with generations: a loader reads {@link #generation} before it
 * reads the tier below, and {@link #put} installs only if the generation is unchanged, checked
 * inside the entry's atomic compute. {@link #invalidate} bumps the generation before removing
 * the entry, so a load that read old data either installs before the removal (and is removed)
 * or sees the new generation (and is refused). Generations live in a fixed array of stripes
 * rather than per user, so they cost no memory per user; two users sharing a stripe only cost
 * each other a refused fill when their loads overlap an invalidation.
 */
final class LocalTier {
  private static final int STRIPES = 4096; // power of two
  /** More variants than this for one user (unusual requests) restart the user's map. */
  private static final int MAX_VARIANTS = 16;

  private final Cache<String, UserEntry> cache; // null when L1 is disabled
  private final AtomicLongArray generations = new AtomicLongArray(STRIPES);

  /**
   * @param profile   {@code null} if not cached
   * @param snapshots immutable
   * @param expiresAt {@link System#nanoTime} deadline of the entry
   */
  record UserEntry(Profile profile, Map<SnapshotKey, Snapshot> snapshots, long expiresAt) {}

  LocalTier(long maxWeightBytes) {
    this.cache = maxWeightBytes == 0 ? null : Caffeine.newBuilder()
        .maximumWeight(maxWeightBytes)
        .weigher((String userId, UserEntry entry) -> weigh(userId, entry))
        .expireAfter(new Expiry<String, UserEntry>() {
          @Override
          public long expireAfterCreate(String key, UserEntry value, long currentTime) {
            return Math.max(0, value.expiresAt() - currentTime);
          }

          @Override
          public long expireAfterUpdate(String key, UserEntry value, long currentTime, long currentDuration) {
            return Math.max(0, value.expiresAt() - currentTime);
          }

          @Override
          public long expireAfterRead(String key, UserEntry value, long currentTime, long currentDuration) {
            return currentDuration;
          }
        })
        .build();
  }

  boolean enabled() {
    return cache != null;
  }

  /** Changes whenever the user is invalidated (and sometimes when another user is). */
  long generation(String userId) {
    return generations.get(stripe(userId));
  }

  Snapshot snapshot(String userId, SnapshotKey key) {
    if (cache == null) {
      return null;
    }
    UserEntry entry = cache.getIfPresent(userId);
    return entry == null ? null : entry.snapshots().get(key);
  }

  Profile profile(String userId) {
    if (cache == null) {
      return null;
    }
    UserEntry entry = cache.getIfPresent(userId);
    return entry == null ? null : entry.profile();
  }

  /**
   * Installs a loaded value unless the user was invalidated since {@code generation} was read.
   *
   * @param key      the snapshot variant, or {@code null} to install the profile only
   * @param snapshot frozen; {@code null} when {@code key} is
   * @param profile  the profile to cache alongside, or {@code null}
   * @return whether the value was installed
   */
  boolean put(String userId, long generation, SnapshotKey key, Snapshot snapshot, Profile profile, long ttlNanos) {
    if (cache == null) {
      return false;
    }
    int stripe = stripe(userId);
    boolean[] installed = {false};
    cache.asMap().compute(userId, (id, old) -> {
      if (generations.get(stripe) != generation) {
        return old;
      }
      installed[0] = true;
      long deadline = System.nanoTime() + ttlNanos;
      if (old == null) {
        return new UserEntry(profile, key == null ? Map.of() : Map.of(key, snapshot), deadline);
      }
      Map<SnapshotKey, Snapshot> snapshots = old.snapshots();
      if (key != null) {
        Map<SnapshotKey, Snapshot> merged = snapshots.size() >= MAX_VARIANTS ? new HashMap<>() : new HashMap<>(snapshots);
        merged.put(key, snapshot);
        snapshots = Map.copyOf(merged);
      }
      // Every variant belongs to the same generation, so the entry lives until the earliest deadline.
      return new UserEntry(profile != null ? profile : old.profile(), snapshots, Math.min(old.expiresAt(), deadline));
    });
    return installed[0];
  }

  void invalidate(String userId) {
    generations.incrementAndGet(stripe(userId));
    if (cache != null) {
      cache.invalidate(userId);
    }
  }

  /** Drops every user; loads that began before this call cannot install afterwards. */
  void invalidateAll() {
    for (int i = 0; i < STRIPES; i++) {
      generations.incrementAndGet(i);
    }
    if (cache != null) {
      cache.invalidateAll();
    }
  }

  long estimatedSize() {
    return cache == null ? 0 : cache.estimatedSize();
  }

  private static int stripe(String userId) {
    int h = userId.hashCode();
    return (h ^ (h >>> 16)) & (STRIPES - 1);
  }

  /** A rough heap estimate in bytes: object headers plus two bytes per character. */
  static int weigh(String userId, UserEntry entry) {
    long bytes = 96 + 2L * userId.length();
    if (entry.profile() != null) {
      bytes += 64 + chars(entry.profile().content());
    }
    for (Snapshot s : entry.snapshots().values()) {
      bytes += 128;
      if (s.profile() != null && s.profile() != entry.profile()) {
        bytes += 64 + chars(s.profile().content());
      }
      for (List<Memory> memories : s.memories().values()) {
        bytes += 64;
        for (Memory m : memories) {
          bytes += 160 + chars(m.content()) + chars(m.metadata()) + chars(m.category());
        }
      }
    }
    return (int) Math.min(Integer.MAX_VALUE, bytes);
  }

  private static long chars(String s) {
    return s == null ? 0 : 40 + 2L * s.length();
  }
}
