package dev.yaad.memory.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.store.StoreConfig;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The store's embedding methods (write, embeddedMemories, staleEmbeddings, putEmbeddings) on each backend. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class StoredEmbeddingsContract {
  MemoryStore store;

  abstract StoreConfig config();

  abstract void cleanUp();

  @BeforeAll
  void open() {
    store = JdbcMemoryStore.open(config());
  }

  @AfterAll
  void close() {
    if (store != null) {
      store.close();
    }
    cleanUp();
  }

  static String user() {
    return "u-" + UUID.randomUUID();
  }

  static Embedding vector(String model, float... v) {
    return new Embedding(model, v);
  }

  @Test
  void write_insertsWithVectors_andEmbeddedMemoriesReadsThemBackExactly() {
    String user = user();
    Embedding e = vector("m1", 0.5f, -0.25f, Float.MIN_VALUE, 1e-7f);

    List<Memory> written = store.write(user, List.of(
        new MemoryWrite.Insert(NewMemory.of("FACT", "first"), e),
        new MemoryWrite.Insert(NewMemory.of("GOAL", "second"), null)));

    List<EmbeddedMemory> read = store.embeddedMemories(user);
    assertThat(read).extracting(EmbeddedMemory::memory).containsExactlyElementsOf(written);
    assertThat(read.get(0).embedding()).isEqualTo(e);
    assertThat(read.get(1).embedding()).isNull();
    assertThat(store.get(user, written.getFirst().id())).isEqualTo(written.getFirst());
    assertThat(store.embeddedMemories(user())).isEmpty();
  }

  @Test
  void write_mixesInsertsAndUpdatesInOneTransaction_resultsInInputOrder() {
    String user = user();
    Memory old = insert(user, NewMemory.of("FACT", "lives in Lahore"));

    List<Memory> written = store.write(user, List.of(
        new MemoryWrite.Insert(NewMemory.of("PLAN", "visit Hunza"), vector("m1", 1, 0)),
        new MemoryWrite.Update(old.id(), new MemoryPatch(null, "lives in Karachi", null, null), vector("m1", 0, 1))));

    assertThat(written.get(0).content()).isEqualTo("visit Hunza");
    assertThat(written.get(1).id()).isEqualTo(old.id());
    assertThat(written.get(1).content()).isEqualTo("lives in Karachi");
    assertThat(written.get(1).updatedAt()).isAfter(old.updatedAt());
    assertThat(store.embeddedMemories(user)).extracting(EmbeddedMemory::embedding)
        .containsExactly(vector("m1", 0, 1), vector("m1", 1, 0));
  }

  @Test
  void write_withOneBadWrite_writesNothing() {
    String user = user();
    Memory kept = insert(user, NewMemory.of("FACT", "kept"));

    assertThatThrownBy(() -> store.write(user, List.of(
        new MemoryWrite.Insert(NewMemory.of("FACT", "fine"), null),
        new MemoryWrite.Update(UUID.randomUUID(), new MemoryPatch(null, "x", null, null), null))))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.write(user, List.of(
        new MemoryWrite.Insert(NewMemory.of("FACT", "fine"), null),
        new MemoryWrite.Insert(NewMemory.of("FACT", ""), null))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("writes[1].content");
    assertThatThrownBy(() -> store.write(user, List.of())).hasMessageContaining("writes must not be empty");

    assertThat(store.embeddedMemories(user)).extracting(e -> e.memory().content()).containsExactly(kept.content());
  }

  @Test
  void update_ofContentWithoutAVector_clearsTheStaleOne_otherChangesKeepIt() {
    String user = user();
    Memory m = store.write(user, List.of(new MemoryWrite.Insert(NewMemory.of("FACT", "likes tea"), vector("m1", 1, 0)))).getFirst();

    update(user, m.id(), new MemoryPatch("PREFERENCE", null, null, null));
    assertThat(store.embeddedMemories(user).getFirst().embedding()).isEqualTo(vector("m1", 1, 0));

    update(user, m.id(), new MemoryPatch(null, "likes coffee", null, null));
    assertThat(store.embeddedMemories(user).getFirst().embedding()).isNull();
  }

  @Test
  void staleEmbeddings_andPutEmbeddings_skipMemoriesChangedMeanwhile() {
    String model = "model-" + UUID.randomUUID();
    String user = user();
    Memory a = insert(user, NewMemory.of("FACT", "a"));
    Memory b = store.write(user, List.of(new MemoryWrite.Insert(NewMemory.of("FACT", "b"), vector("old", 1)))).getFirst();
    Memory current = store.write(user, List.of(new MemoryWrite.Insert(NewMemory.of("FACT", "c"), vector(model, 1)))).getFirst();

    List<EmbeddedMemory> stale = store.staleEmbeddings(model, null, 1000).stream()
        .filter(e -> e.memory().userId().equals(user)).toList();
    // id order: UUIDv7 ids of one millisecond are ordered by their random bits, not by insertion
    assertThat(stale).extracting(e -> e.memory().id()).containsExactlyInAnyOrder(a.id(), b.id()).doesNotContain(current.id());
    UUID first = stale.getFirst().memory().id();
    assertThat(store.staleEmbeddings(model, first, 1000)).extracting(e -> e.memory().id()).doesNotContain(first);

    update(user, b.id(), new MemoryPatch(null, "b, edited", null, null)); // b changes after it was read
    int stored = store.putEmbeddings(List.of(
        new EmbeddedMemory(a, vector(model, 0.6f)), new EmbeddedMemory(b, vector(model, 0.8f))));

    assertThat(stored).isEqualTo(1);
    List<EmbeddedMemory> now = store.embeddedMemories(user);
    assertThat(now.get(0).embedding()).isEqualTo(vector(model, 0.6f));
    assertThat(now.get(0).memory()).isEqualTo(a); // updatedAt untouched
    assertThat(now.get(1).embedding()).isNull();
  }

  /** A memory written without a vector, as rows written before embeddings existed. */
  Memory insert(String user, NewMemory memory) {
    return store.write(user, List.of(new MemoryWrite.Insert(memory, null))).getFirst();
  }

  /** A change that brings no new vector. */
  Memory update(String user, java.util.UUID id, MemoryPatch patch) {
    return store.write(user, List.of(new MemoryWrite.Update(id, patch, null))).getFirst();
  }
}
