package dev.yaad.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The front door: its builder's rules, and that every write is visible to the next read and search. */
class MemoriesTest {
  @TempDir Path dir;

  @Test
  void builder_checksOptionsWhenSet_andCombinationsAtBuild() {
    assertThatThrownBy(() -> Memories.builder().build()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a database is required");
    StoreConfig config = TestStores.h2(dir);
    assertThatThrownBy(() -> Memories.builder().store(config).dataSource(new org.h2.jdbcx.JdbcDataSource()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("dataSource cannot be combined with store");
    assertThatThrownBy(() -> Memories.builder().store(config).store(config))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("store was already set");
    assertThatThrownBy(() -> Memories.builder().duplicateThreshold(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicateThreshold must be in (0, 1] (was 0.0)");
    assertThatThrownBy(() -> Memories.builder().store(config).categories(Categories.DEFAULT).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("categories goes with dataSource");
  }

  @Test
  void everyWrite_isSeenByTheNextSnapshotAndSearch() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (Memories memories = Memories.builder().store(TestStores.h2(dir)).meterRegistry(meters).build()) {
      AddResult tea = memories.add("ayesha", NewMemory.of("PREFERENCE", "Loves green tea with cardamom"));
      assertThat(tea.outcome()).isEqualTo(AddResult.Outcome.ADDED);
      assertThat(contents(memories.search("ayesha", SearchRequest.of("green tea", 1)))).containsExactly("Loves green tea with cardamom");
      assertThat(meters.get("yaad.memory.search.users").gauge().value()).isEqualTo(1);
      assertThat(memories.add("ayesha", NewMemory.of("PREFERENCE", "Loves green tea with cardamom")).outcome())
          .isEqualTo(AddResult.Outcome.UNCHANGED);

      memories.update("ayesha", tea.memory().id(), new MemoryPatch(null, "Drinks black coffee, no sugar", null, null));
      assertThat(contents(memories.search("ayesha", SearchRequest.of("coffee", 1)))).containsExactly("Drinks black coffee, no sugar");
      assertThat(memories.snapshot("ayesha", List.of(), 5).memories().get("PREFERENCE")).extracting(Memory::content)
          .containsExactly("Drinks black coffee, no sugar");

      memories.delete("ayesha", tea.memory().id());
      assertThat(memories.search("ayesha", SearchRequest.of("coffee", 1))).isEmpty();
      assertThat(memories.snapshot("ayesha", List.of(), 5).memoryCount()).isZero();
    }
  }

  @Test
  void onADataSourceTheCallerOwns_migratesIt_andLeavesItOpen() throws Exception {
    org.h2.jdbcx.JdbcDataSource dataSource = new org.h2.jdbcx.JdbcDataSource();
    dataSource.setURL(TestStores.h2(dir).jdbcUrl());
    try (Connection keep = dataSource.getConnection()) { // keeps the in-file database open across the two
      try (Memories memories = Memories.builder().dataSource(dataSource).categories(Categories.of(List.of("FACT", "MOOD"))).build()) {
        memories.add("bilal", NewMemory.of("mood", "cheerful today"));
        assertThat(memories.categories().names()).containsExactly("FACT", "MOOD");
      }
      try (var rs = keep.createStatement().executeQuery("SELECT COUNT(*) FROM memories")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(1);
      }
      try (var rs = keep.createStatement().executeQuery("SELECT COUNT(*) FROM agent_outbox")) { // the outbox is in this schema
        rs.next();
        assertThat(rs.getInt(1)).isZero();
      }
    }
  }

  @Test
  void aLoneSurrogate_isRefusedAtTheFrontDoor_beforeTheModelSeesIt() {
    AtomicInteger embedded = new AtomicInteger();
    Embedder counting = new Embedder() {
      @Override
      public String modelId() {
        return OnnxEmbedder.shared().modelId();
      }

      @Override
      public int dimension() {
        return OnnxEmbedder.shared().dimension();
      }

      @Override
      public List<float[]> embed(List<String> texts) {
        embedded.incrementAndGet();
        return OnnxEmbedder.shared().embed(texts);
      }
    };
    try (Memories memories = Memories.builder().store(TestStores.h2(dir)).embedder(counting).build()) {
      assertThatThrownBy(() -> memories.add("zara", NewMemory.of("FACT", "chai \uD83C")))
          .isInstanceOf(InvalidInputException.class).hasMessage("content contains a lone UTF-16 surrogate (U+D83C) at character 5,"
              + " which is not Unicode text and cannot be stored; send well-formed text");
      assertThatThrownBy(() -> memories.addAll("zara", List.of(NewMemory.of("FACT", "fine"), NewMemory.of("FACT", "\uDF75 tea"))))
          .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("memories[1].content contains a lone UTF-16 surrogate");
      Memory tea = memories.add("zara", NewMemory.of("FACT", "a whole emoji \uD83C\uDF75 is fine")).memory();
      assertThatThrownBy(() -> memories.update("zara", tea.id(), new MemoryPatch(null, "half \uD83C", null, null)))
          .isInstanceOf(InvalidInputException.class).hasMessageContaining("lone UTF-16 surrogate");
      assertThat(embedded).as("embedding calls: only the well-formed add").hasValue(1);
      assertThat(memories.get("zara", tea.id()).content()).isEqualTo("a whole emoji 🍵 is fine");
    }
  }

  @Test
  void restore_bringsAUserBackExactly_searchableAtOnce_andOnlyIntoAFreshUser() {
    try (Memories memories = Memories.builder().store(TestStores.h2(dir)).build()) {
      Memory tea = memories.add("sana", new NewMemory("PREFERENCE", "Loves green tea with cardamom", "{\"n\":0.90}", null)).memory();
      memories.putProfile("sana", "Sana, tea lover.", null);
      Profile profile = memories.profile("sana");
      assertThat(memories.search("sana", SearchRequest.of("green tea", 1))).hasSize(1); // the search state is loaded
      assertThatThrownBy(() -> memories.restore("sana", List.of(tea), profile)).isInstanceOf(ConflictException.class)
          .hasMessageContaining("already exists");

      memories.deleteUser("sana");
      assertThat(memories.restore("sana", List.of(tea), profile)).containsExactly(tea);
      assertThat(memories.get("sana", tea.id())).isEqualTo(tea);
      assertThat(memories.profile("sana")).isEqualTo(profile);
      assertThat(memories.search("sana", SearchRequest.of("green tea", 1))).extracting(h -> h.memory().id()).containsExactly(tea.id());
      assertThat(memories.snapshot("sana", List.of(), 5).memoryCount()).isEqualTo(1);
    }
  }

  @Test
  void changingTheModel_needsReembedding_untilReembedRuns_andTakesTheModelsDuplicateThreshold(@TempDir Path other) {
    StoreConfig store = TestStores.h2(other);
    try (Memories memories = Memories.builder().store(store).build()) {
      assertThat(memories.needsReembedding()).isFalse();
      memories.add("sana", NewMemory.of("FACT", "I usually drink tea in the morning"));
      assertThat(memories.needsReembedding()).isFalse();
    }
    try (Memories e5 = Memories.builder().store(store).embedder(OnnxEmbedder.e5SmallV2()).build()) {
      assertThat(e5.needsReembedding()).as("a MiniLM vector, read by e5").isTrue();
      assertThat(e5.reembed(10).updated()).isEqualTo(1);
      assertThat(e5.needsReembedding()).isFalse();
      // e5 puts these two at about 0.95, MiniLM's 0.92 would merge them: e5's own threshold keeps both
      e5.add("sana", NewMemory.of("FACT", "I usually drink coffee in the morning"));
      assertThat(e5.list("sana", null, 10, null).items()).hasSize(2);
    }
  }

  private static List<String> contents(List<SearchHit> hits) {
    return hits.stream().map(h -> h.memory().content()).toList();
  }
}
