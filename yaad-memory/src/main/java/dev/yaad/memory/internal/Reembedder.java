package dev.yaad.memory.internal;

import dev.yaad.memory.Limits;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.Embedding;
import dev.yaad.memory.internal.store.MemoryStore;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The explicit job that moves stored vectors to the current model: it embeds every memory
 * whose vector is missing or of another model, in batches, and stores the new vectors
 * (only where the memory did not change meanwhile). Switching models is this job, never a
 * silent mix of vector spaces. Safe to stop and run again: it resumes with what is still stale.
 *
 * <p>Logs one INFO line per batch and one at the end. Behind the CLI's {@code reembed} command.
 */
public final class Reembedder {
  public static final int DEFAULT_BATCH_SIZE = 256;
  private static final Logger log = LoggerFactory.getLogger(Reembedder.class);

  private final MemoryStore store;
  private final Embedder embedder;
  private final Consumer<String> invalidate;

  /**
   * @param invalidate called with each user whose vectors changed (e.g.
   *     {@code memoryService::invalidate}), so search state never mixes old and new vectors
   */
  public Reembedder(MemoryStore store, Embedder embedder, Consumer<String> invalidate) {
    this.store = Objects.requireNonNull(store, "store");
    this.embedder = Objects.requireNonNull(embedder, "embedder");
    this.invalidate = Objects.requireNonNull(invalidate, "invalidate");
  }

  /**
   * What a run did.
   *
   * @param examined memories found stale
   * @param updated  memories that now carry a current vector
   * @param skipped  memories changed while being embedded (left for the next run)
   * @param users    users whose vectors changed
   * @param millis   how long the run took
   */
  public record Result(long examined, long updated, long skipped, long users, long millis) {}

  /** Re-embeds until nothing is stale; returns a summary. */
  public Result run(int batchSize) {
    if (batchSize < 1 || batchSize > Limits.MAX_BATCH_SIZE) {
      throw new IllegalArgumentException("batchSize must be 1-" + Limits.MAX_BATCH_SIZE + " (was " + batchSize + ")");
    }
    long start = System.nanoTime();
    long examined = 0;
    long updated = 0;
    Set<String> users = new LinkedHashSet<>();
    UUID after = null;
    int batchNo = 0;
    while (true) {
      List<EmbeddedMemory> stale = store.staleEmbeddings(embedder.modelId(), after, batchSize);
      if (stale.isEmpty()) {
        break;
      }
      long batchStart = System.nanoTime();
      List<String> texts = new ArrayList<>(stale.size());
      stale.forEach(e -> texts.add(e.memory().content()));
      List<float[]> vectors = embedder.embed(texts);
      List<EmbeddedMemory> fresh = new ArrayList<>(stale.size());
      Set<String> batchUsers = new LinkedHashSet<>();
      for (int i = 0; i < stale.size(); i++) {
        fresh.add(new EmbeddedMemory(stale.get(i).memory(), new Embedding(embedder.modelId(), vectors.get(i))));
        batchUsers.add(stale.get(i).memory().userId());
      }
      int stored = store.putEmbeddings(fresh);
      batchUsers.forEach(invalidate);
      users.addAll(batchUsers);
      examined += stale.size();
      updated += stored;
      after = stale.getLast().memory().id();
      batchNo++;
      log.info("reembed: batch {}: {} memories of {} users embedded with {} and {} stored ({} changed meanwhile) in {} ms",
          batchNo, stale.size(), batchUsers.size(), embedder.modelId(), stored, stale.size() - stored,
          (System.nanoTime() - batchStart) / 1_000_000);
    }
    Result result = new Result(examined, updated, examined - updated, users.size(), (System.nanoTime() - start) / 1_000_000);
    log.info("reembed: done: {} memories of {} users now carry {} vectors ({} skipped as changed meanwhile) in {} ms",
        result.updated(), result.users(), embedder.modelId(), result.skipped(), result.millis());
    return result;
  }
}
