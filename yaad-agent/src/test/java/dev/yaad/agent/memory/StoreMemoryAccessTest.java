package dev.yaad.agent.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.store.JdbcMemoryStore;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreMemoryAccessTest {
  @TempDir static Path dir;
  static JdbcMemoryStore store;
  static StoreMemoryAccess memory;

  @BeforeAll
  static void open() {
    store = JdbcMemoryStore.open(TestStores.h2(dir));
    memory = new StoreMemoryAccess(store);
  }

  @AfterAll
  static void close() {
    store.close();
  }

  @Test
  void newUser_hasAnEmptySnapshot_andNoProfile() {
    assertThat(memory.snapshot("stranger").memoryCount()).isZero();
    assertThat(memory.profile("stranger").exists()).isFalse();
    assertThat(memory.search("stranger", "anything", List.of(), 5)).isEmpty();
  }

  @Test
  void save_sameTextAgain_isUnchanged() {
    assertThat(memory.save("dup", "fact", "Lives in  Quetta").outcome()).isEqualTo(MemoryAccess.SaveOutcome.ADDED);
    assertThat(memory.save("dup", "FACT", "lives in quetta").outcome()).isEqualTo(MemoryAccess.SaveOutcome.UNCHANGED);
    assertThat(memory.save("dup", "PLAN", "lives in quetta").outcome()).isEqualTo(MemoryAccess.SaveOutcome.ADDED);
  }

  @Test
  void search_ranksByWordsInCommon_withinCategories() {
    store.add("searcher", NewMemory.of("PLAN", "visiting Karachi for a wedding in December"));
    store.add("searcher", NewMemory.of("INTEREST", "loves cricket and Karachi biryani"));
    store.add("searcher", NewMemory.of("FACT", "works as a teacher"));
    assertThat(memory.search("searcher", "Karachi wedding plans", List.of(), 5)).extracting(Memory::content)
        .containsExactly("visiting Karachi for a wedding in December", "loves cricket and Karachi biryani");
    assertThat(memory.search("searcher", "Karachi", List.of("interest"), 5)).extracting(Memory::content)
        .containsExactly("loves cricket and Karachi biryani");
    assertThat(memory.search("searcher", "Karachi", List.of(), 1)).hasSize(1);
  }

  @Test
  void forget_unknownId_isEmpty() {
    Memory m = store.add("forgetter", NewMemory.of("FACT", "has two cats"));
    assertThat(memory.forget("forgetter", m.id())).contains(m);
    assertThat(memory.forget("forgetter", m.id())).isEmpty();
    assertThat(memory.forget("someone-else", m.id())).isEmpty();
  }
}
