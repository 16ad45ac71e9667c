package dev.yaad.memory.internal.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.AddResult.Outcome;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.internal.MemoryService;
import dev.yaad.memory.internal.cache.CachingMemoryStore;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * De-duplication with bge-small-en-v1.5, which keeps MiniLM's threshold (0.92): its cosines
 * are spread as MiniLM's, so other facts of one shape stay two, and paraphrases and near
 * misses come out as with MiniLM, in English and Urdu.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BgeDuplicatesTest {
  @TempDir static Path dir;
  CachingMemoryStore store;
  MemoryService service;
  final Embedder bge = OnnxEmbedder.bgeSmallEnV15();

  @BeforeAll
  void open() {
    store = CachingMemoryStore.create(JdbcMemoryStore.open(TestStores.h2(dir)), CacheConfig.defaults());
    service = MemoryService.builder(store, bge).build();
  }

  @AfterAll
  void close() {
    if (store != null) {
      store.close();
    }
  }

  private List<Outcome> addBoth(String[] pair) {
    String user = "bge-" + UUID.randomUUID();
    service.add(user, NewMemory.of("FACT", pair[0]));
    return List.of(Outcome.ADDED, service.add(user, NewMemory.of("FACT", pair[1])).outcome());
  }

  @Test
  void bge_takesMiniLmsThreshold() {
    assertThat(bge.duplicateThreshold()).isEqualTo(Embedder.DEFAULT_DUPLICATE_THRESHOLD);
  }

  @Test
  void otherFactsOfTheSameShape_andNearMisses_stayTwoMemories_inEnglishAndUrdu() {
    for (String[][] pairs : List.of(E5DuplicatesTest.OTHER_FACTS, MemoryServiceContract.NEAR_MISSES)) {
      for (String[] pair : pairs) {
        assertThat(addBoth(pair)).as("%s", List.of(pair)).containsExactly(Outcome.ADDED, Outcome.ADDED);
      }
    }
  }

  @Test
  void paraphrases_areMerged_inEnglishAndUrdu() {
    for (String[] pair : MemoryServiceContract.PARAPHRASES) {
      assertThat(addBoth(pair)).as("%s", List.of(pair)).containsExactly(Outcome.ADDED, Outcome.UPDATED);
    }
  }
}
