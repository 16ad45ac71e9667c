package dev.yaad.memory.internal.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.AddResult;
import dev.yaad.memory.AddResult.Outcome;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.internal.MemoryService;
import dev.yaad.memory.internal.Vectors;
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
 * De-duplication with e5-small-v2, whose cosines are compressed toward 1: it takes the model's
 * own threshold ({@link OnnxEmbedder#E5_DUPLICATE_THRESHOLD}), not MiniLM's 0.92, and keeps
 * the near misses and paraphrases of {@link MemoryServiceContract} right in English and Urdu.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class E5DuplicatesTest {
  /** Two facts of one shape and no name or number, which e5 puts at 0.92 or more (MiniLM at 0.68-0.83). */
  static final String[][] OTHER_FACTS = {
      {"I usually drink tea in the morning", "I usually drink coffee in the morning"},
      {"I walk the dog every evening", "I feed the dog every evening"},
      {"I go swimming on weekends with my kids", "I go running on weekends with my kids"},
      {"I take my kids to the park on weekends", "I take my kids to the beach on weekends"},
      {"We go camping every summer", "We go fishing every summer"},
  };

  @TempDir static Path dir;
  CachingMemoryStore store;
  MemoryService service;
  final Embedder e5 = OnnxEmbedder.e5SmallV2();

  @BeforeAll
  void open() {
    store = CachingMemoryStore.create(JdbcMemoryStore.open(TestStores.h2(dir)), CacheConfig.defaults());
    service = MemoryService.builder(store, e5).build();
  }

  @AfterAll
  void close() {
    if (store != null) {
      store.close();
    }
  }

  private double cosine(String a, String b) {
    List<float[]> v = e5.embed(List.of(a, b));
    return Vectors.dot(v.get(0), v.get(1));
  }

  private static String user() {
    return "e5-" + UUID.randomUUID();
  }

  @Test
  void e5_hasAThresholdOfItsOwn_andTheServiceTakesIt() {
    assertThat(e5.duplicateThreshold()).isEqualTo(OnnxEmbedder.E5_DUPLICATE_THRESHOLD).isGreaterThan(Embedder.DEFAULT_DUPLICATE_THRESHOLD);
    assertThat(OnnxEmbedder.shared().duplicateThreshold()).isEqualTo(Embedder.DEFAULT_DUPLICATE_THRESHOLD);
  }

  @Test
  void otherFactsOfTheSameShape_stayTwoMemories_thoughAboveMiniLmsThreshold() {
    for (String[] pair : OTHER_FACTS) {
      // MiniLM's threshold would merge them: nothing but the threshold keeps them apart.
      assertThat(cosine(pair[0], pair[1])).as("cosine of %s", List.of(pair))
          .isGreaterThanOrEqualTo(Embedder.DEFAULT_DUPLICATE_THRESHOLD);
      String user = user();
      service.add(user, NewMemory.of("FACT", pair[0]));
      assertThat(service.add(user, NewMemory.of("FACT", pair[1])).outcome()).as("%s", List.of(pair)).isEqualTo(Outcome.ADDED);
    }
  }

  @Test
  void nearMisses_stayTwoMemories_inEnglishAndUrdu() {
    for (String[] pair : MemoryServiceContract.NEAR_MISSES) {
      String user = user();
      assertThat(service.addAll(user, List.of(NewMemory.of("FACT", pair[0]), NewMemory.of("FACT", pair[1]))))
          .extracting(AddResult::outcome).as("%s", List.of(pair)).containsExactly(Outcome.ADDED, Outcome.ADDED);
    }
  }

  @Test
  void paraphrases_areMerged_inEnglishAndUrdu() {
    for (String[] pair : MemoryServiceContract.PARAPHRASES) {
      String user = user();
      service.add(user, NewMemory.of("FACT", pair[0]));
      assertThat(service.add(user, NewMemory.of("FACT", pair[1])).outcome()).as("%s", List.of(pair)).isEqualTo(Outcome.UPDATED);
    }
  }
}
