package dev.yaad.agent.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Memories;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's memory port over the real engine: ONNX embeddings, hybrid search, cache, H2. */
class MemoriesAccessTest {
  @TempDir static Path dir;
  static Memories memories;
  static MemoriesAccess memory;
  /** Work begun now: no user of these tests is deleted. */
  static final java.time.Instant NOW = java.time.Instant.now();

  @BeforeAll
  static void open() {
    memories = Memories.builder().store(TestStores.h2(dir)).build();
    memory = new MemoriesAccess(memories);
  }

  @AfterAll
  static void close() {
    memories.close();
  }

  @Test
  void newUser_hasAnEmptySnapshot_andNoProfile() {
    assertThat(memory.snapshot("stranger").memoryCount()).isZero();
    assertThat(memory.profile("stranger").exists()).isFalse();
    assertThat(memory.search("stranger", "anything", List.of(), 5)).isEmpty();
  }

  @Test
  void save_deduplicates_exactRepeatIsUnchanged_nearRepeatUpdates() {
    assertThat(memory.save("dup", "fact", "Lives in  Quetta", NOW).outcome()).isEqualTo(MemoryAccess.SaveOutcome.ADDED);
    assertThat(memory.save("dup", "FACT", "lives in quetta", NOW).outcome()).isEqualTo(MemoryAccess.SaveOutcome.UNCHANGED);
    MemoryAccess.Saved near = memory.save("dup", "FACT", "Lives in Quetta.", NOW);
    assertThat(near.outcome()).isIn(MemoryAccess.SaveOutcome.UPDATED, MemoryAccess.SaveOutcome.UNCHANGED);
    assertThat(memory.save("dup", "PLAN", "lives in quetta", NOW).outcome()).isEqualTo(MemoryAccess.SaveOutcome.ADDED);
    assertThat(memory.snapshot("dup").memories().get("FACT")).hasSize(1);
  }

  @Test
  void search_findsByMeaning_withinCategories_andSeesTheLatestWrite() {
    memory.save("searcher", "PLAN", "visiting Karachi for a wedding in December", NOW);
    memory.save("searcher", "INTEREST", "loves cricket and Karachi biryani", NOW);
    memory.save("searcher", "FACT", "works as a teacher at a girls' school", NOW);
    assertThat(memory.search("searcher", "Karachi wedding plans", List.of(), 5)).first()
        .extracting(Memory::content).isEqualTo("visiting Karachi for a wedding in December");
    assertThat(memory.search("searcher", "Karachi", List.of("interest"), 5)).extracting(Memory::content)
        .containsExactly("loves cricket and Karachi biryani");
    assertThat(memory.search("searcher", "what is their job?", List.of(), 1)).extracting(Memory::content)
        .containsExactly("works as a teacher at a girls' school");

    memory.save("searcher", "GOAL", "wants to run a marathon next spring", NOW);
    assertThat(memory.search("searcher", "marathon", List.of(), 1)).extracting(Memory::content)
        .containsExactly("wants to run a marathon next spring");
  }

  @Test
  void forget_removesFromSearch_unknownIdIsEmpty() {
    Memory m = memory.save("forgetter", "FACT", "has two cats named Biscuit and Chai", NOW).memory();
    assertThat(memory.search("forgetter", "cats", List.of(), 5)).extracting(Memory::id).contains(m.id());
    assertThat(memory.forget("forgetter", m.id())).contains(m);
    assertThat(memory.search("forgetter", "cats", List.of(), 5)).extracting(Memory::id).doesNotContain(m.id());
    assertThat(memory.forget("forgetter", m.id())).isEmpty();
    assertThat(memory.forget("someone-else", m.id())).isEmpty();
  }

  @Test
  void preload_returnsAtOnce_andLeavesTheSnapshotReadable() {
    memories.add("preloaded", NewMemory.of("FACT", "speaks Urdu and Punjabi"));
    memory.preload("preloaded");
    assertThat(memory.snapshot("preloaded").memories().get("FACT")).extracting(Memory::content)
        .containsExactly("speaks Urdu and Punjabi");
  }
}
