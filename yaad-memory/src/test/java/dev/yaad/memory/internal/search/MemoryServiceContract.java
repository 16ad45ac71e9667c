package dev.yaad.memory.internal.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.AddResult.Outcome;
import dev.yaad.memory.AddResult;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.internal.MemoryService;
import dev.yaad.memory.internal.Reembedder;
import dev.yaad.memory.internal.cache.CachingMemoryStore;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.Embedding;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.internal.store.TestWrites;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import dev.yaad.memory.store.StoreConfig;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The memory service end to end: the real ONNX model, a real database (one subclass per
 * backend), search, de-duplication and re-embedding. Every test works on users of its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class MemoryServiceContract {
  CachingMemoryStore store;
  MemoryService service;

  abstract StoreConfig config();

  abstract void cleanUp();

  @BeforeAll
  void open() {
    // The service hears of every write through the caching store, as in Memories.
    store = CachingMemoryStore.create(JdbcMemoryStore.open(config()), CacheConfig.defaults());
    service = MemoryService.builder(store, OnnxEmbedder.shared()).build();
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

  private List<String> contents(List<SearchHit> hits) {
    return hits.stream().map(h -> h.memory().content()).toList();
  }

  @Test
  void search_embedsTheQueryAsAQuery_forAModelThatTellsThemApart() {
    List<String> asQueries = new ArrayList<>();
    Embedder e5 = OnnxEmbedder.e5SmallV2();
    Embedder recording = new Embedder() {
      @Override public String modelId() { return e5.modelId(); }
      @Override public int dimension() { return e5.dimension(); }
      @Override public List<float[]> embed(List<String> texts) { return e5.embed(texts); }
      @Override public List<float[]> embedQueries(List<String> queries) {
        asQueries.addAll(queries);
        return e5.embedQueries(queries);
      }
    };
    MemoryService withE5 = MemoryService.builder(store, recording).build();
    String user = user();
    withE5.addAll(user, List.of(NewMemory.of("FACT", "Adopted a cat named Luna last spring"),
        NewMemory.of("FACT", "Moved to Lahore last year for a new job")));

    List<SearchHit> hits = withE5.search(user, SearchRequest.of("which animal lives with her?", 2));

    assertThat(asQueries).containsExactly("which animal lives with her?");
    assertThat(hits.getFirst().memory().content()).contains("Luna");
  }

  @Test
  void search_ranksTheMatchingMemoryFirst_withMetadataAndScore() {
    String user = user();
    service.addAll(user, List.of(
        new NewMemory("PREFERENCE", "Loves green tea with cardamom in the morning", "{\"source\":\"call-7\"}", null),
        NewMemory.of("FACT", "Works as a nurse at the children's hospital in Lahore"),
        NewMemory.of("INTEREST", "Plays cricket with her brothers on Sundays")));

    List<SearchHit> hits = service.search(user, SearchRequest.of("what does she like to drink?", 3));

    assertThat(hits).hasSize(3);
    assertThat(hits.getFirst().memory().content()).contains("green tea");
    assertThat(hits.getFirst().memory().metadata()).isEqualTo("{\"source\":\"call-7\"}");
    assertThat(hits.getFirst().score()).isBetween(0.0, 1.0).isGreaterThan(hits.get(1).score());
    assertThat(service.search(user, SearchRequest.of("cricket", 1))).extracting(h -> h.memory().category()).containsExactly("INTEREST");
  }

  @Test
  void search_seesEveryWrite_addUpdateDelete() {
    String user = user();
    service.add(user, NewMemory.of("FACT", "Has a cat called Biscuit"));
    assertThat(contents(service.search(user, SearchRequest.of("pet", 5)))).containsExactly("Has a cat called Biscuit");

    Memory dog = service.add(user, NewMemory.of("FACT", "Adopted a dog named Sheru last week")).memory();
    assertThat(contents(service.search(user, SearchRequest.of("Sheru", 5)))).contains("Adopted a dog named Sheru last week");

    service.update(user, dog.id(), new MemoryPatch(null, "Adopted a parrot named Mithu last week", null, null));
    assertThat(contents(service.search(user, SearchRequest.of("Mithu the parrot", 1)))).containsExactly("Adopted a parrot named Mithu last week");
    assertThat(contents(service.search(user, SearchRequest.of("Sheru", 5)))).doesNotContain("Adopted a dog named Sheru last week");

    service.delete(user, dog.id());
    assertThat(contents(service.search(user, SearchRequest.of("Mithu the parrot", 5)))).containsExactly("Has a cat called Biscuit");
  }

  @Test
  void search_urduQuery_findsTheUrduMemory() {
    String user = user();
    service.addAll(user, List.of(
        NewMemory.of("PREFERENCE", "مجھے بارش میں چائے پینا بہت پسند ہے"),
        NewMemory.of("FACT", "میری بہن کا نام عائشہ ہے"),
        NewMemory.of("FACT", "I work at a bank in Karachi")));

    assertThat(contents(service.search(user, SearchRequest.of("میری بہن کا کیا نام ہے؟", 1)))).containsExactly("میری بہن کا نام عائشہ ہے");
    // Typed with Arabic letter forms (kaf U+0643, yeh U+064A) and a diacritic: the same words.
    assertThat(contents(service.search(user, SearchRequest.of("چاۓ پسند", 1)))).containsExactly("مجھے بارش میں چائے پینا بہت پسند ہے");
    assertThat(contents(service.search(user, SearchRequest.of("بہن \u0643\u064A", 1)))).containsExactly("میری بہن کا نام عائشہ ہے");
  }

  @Test
  void search_filtersByCategoryAndTimeRanges() {
    String user = user();
    Instant may = Instant.parse("2023-05-08T13:56:00Z");
    Instant june = Instant.parse("2023-06-09T10:00:00Z");
    service.addAll(user, List.of(
        new NewMemory("EXPERIENCE", "Went hiking in the Margalla hills", null, may),
        new NewMemory("PLAN", "Wants to go hiking in Hunza", null, june),
        NewMemory.of("EXPERIENCE", "Went hiking with colleagues")));

    assertThat(contents(service.search(user, SearchRequest.of("hiking", 10).withCategories(List.of("plan")))))
        .containsExactly("Wants to go hiking in Hunza");
    assertThat(contents(service.search(user, SearchRequest.of("hiking", 10)
        .withRange(SearchRequest.TimeField.OCCURRED, Instant.parse("2023-05-01T00:00:00Z"), Instant.parse("2023-06-01T00:00:00Z")))))
        .containsExactly("Went hiking in the Margalla hills");
    // Without an occurredAt a memory counts by when it was written: now.
    assertThat(contents(service.search(user, SearchRequest.of("hiking", 10)
        .withRange(SearchRequest.TimeField.OCCURRED, Instant.now().minusSeconds(3600), null))))
        .containsExactly("Went hiking with colleagues");
    assertThat(contents(service.search(user, SearchRequest.of("hiking", 10)
        .withRange(SearchRequest.TimeField.CREATED, null, Instant.parse("2024-01-01T00:00:00Z"))))).isEmpty();
  }

  @Test
  void search_relativeTimes_countFromTheRequestsTime() {
    String user = user();
    service.addAll(user, List.of(
        new NewMemory("EXPERIENCE", "Went to the market for vegetables", null, Instant.parse("2023-10-01T10:00:00Z")),
        new NewMemory("EXPERIENCE", "Went to the market for a new phone", null, Instant.parse("2023-10-03T20:00:00Z")),
        NewMemory.of("FACT", "Works as a nurse"), NewMemory.of("FACT", "Has two brothers")));
    SearchRequest yesterday = SearchRequest.of("what did I get at the market yesterday", 2);

    assertThat(contents(service.search(user, yesterday.askedAt(Instant.parse("2023-10-04T12:00:00Z"), null))).getFirst())
        .isEqualTo("Went to the market for a new phone");
    assertThat(contents(service.search(user, yesterday.askedAt(Instant.parse("2023-10-02T12:00:00Z"), null))).getFirst())
        .isEqualTo("Went to the market for vegetables");
    assertThat(contents(service.search(user, yesterday.askedAt(Instant.parse("2023-10-02T12:00:00Z"), ZoneId.of("Asia/Karachi")))))
        .first().isEqualTo("Went to the market for vegetables");
  }

  @Test
  void search_filteredOutMemories_stayOut_evenWhenTheirNeighboursMatch() {
    String user = user();
    // Written together (neighbours in time), in different categories; only one matches the query's words.
    service.addAll(user, List.of(
        NewMemory.of("PLAN", "visiting Karachi for a wedding in December"),
        NewMemory.of("INTEREST", "loves cricket and Karachi biryani"),
        NewMemory.of("FACT", "works as a teacher at a girls' school")));
    assertThat(contents(service.search(user, SearchRequest.of("Karachi", 10).withCategories(List.of("interest")))))
        .containsExactly("loves cricket and Karachi biryani");
    assertThat(contents(service.search(user, SearchRequest.of("wedding", 10).withCategories(List.of("FACT")))))
        .containsExactly("works as a teacher at a girls' school");
  }

  @Test
  void search_unknownUser_hasNoHits_andBadRequestsAreRefused() {
    assertThat(service.search(user(), SearchRequest.of("anything", 5))).isEmpty();
    String user = user();
    assertThatThrownBy(() -> service.search(user, SearchRequest.of(" ", 5))).isInstanceOf(InvalidInputException.class).hasMessageContaining("query");
    assertThatThrownBy(() -> service.search(user, SearchRequest.of("x", 0))).hasMessageContaining("k must be between 1 and 100");
    assertThatThrownBy(() -> service.search(user, SearchRequest.of("x", 101))).hasMessageContaining("(was 101)");
    assertThatThrownBy(() -> service.search(user, SearchRequest.of("x", 5).withCategories(List.of("nope")))).hasMessageContaining("unknown category");
    Instant t = Instant.parse("2024-01-01T00:00:00Z");
    assertThatThrownBy(() -> service.search(user, SearchRequest.of("x", 5).withRange(null, t, t))).hasMessageContaining("'from'");
    assertThatThrownBy(() -> service.search("bad user", SearchRequest.of("x", 5))).hasMessageContaining("malformed user id");
  }

  @Test
  void search_returnsAtMostK() {
    String user = user();
    List<NewMemory> many = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      many.add(NewMemory.of("FACT", "Visited museum number " + i + " in the old city"));
    }
    service.addAll(user, many, false);

    assertThat(service.search(user, SearchRequest.of("museum", 100))).hasSize(100);
    assertThat(service.search(user, SearchRequest.of("museum", 7))).hasSize(7);
  }

  @Test
  void add_sameTextAgain_isUnchanged_evenWithOtherCaseAndSpacing() {
    String user = user();
    AddResult first = service.add(user, NewMemory.of("PREFERENCE", "Loves green tea."));

    AddResult again = service.add(user, NewMemory.of("preference", "  loves   GREEN tea "));

    assertThat(first.outcome()).isEqualTo(Outcome.ADDED);
    assertThat(again.outcome()).isEqualTo(Outcome.UNCHANGED);
    assertThat(again.memory()).isEqualTo(first.memory());
    assertThat(store.embeddedMemories(user)).hasSize(1);
  }

  @Test
  void add_nearDuplicate_updatesTheExistingMemoryWithTheNewText() {
    String user = user();
    Memory original = service.add(user, NewMemory.of("FACT", "My sister's name is Ayesha")).memory();

    AddResult near = service.add(user, new NewMemory("FACT", "My sister is named Ayesha", "{\"v\":2}", null));

    assertThat(near.outcome()).isEqualTo(Outcome.UPDATED);
    assertThat(near.memory().id()).isEqualTo(original.id());
    assertThat(near.memory().content()).isEqualTo("My sister is named Ayesha");
    assertThat(near.memory().metadata()).isEqualTo("{\"v\":2}");
    List<EmbeddedMemory> stored = store.embeddedMemories(user);
    assertThat(stored).hasSize(1);
    assertThat(stored.getFirst().memory().content()).isEqualTo("My sister is named Ayesha");
    assertThat(stored.getFirst().embedding().vector()).isEqualTo(OnnxEmbedder.shared().embed("My sister is named Ayesha"));
  }

  @Test
  void add_differentFactOrOtherCategory_isAdded() {
    String user = user();
    service.add(user, NewMemory.of("FACT", "My sister's name is Ayesha"));

    assertThat(service.add(user, NewMemory.of("FACT", "I moved to Lahore last year")).outcome()).isEqualTo(Outcome.ADDED);
    assertThat(service.add(user, NewMemory.of("RELATIONSHIP", "My sister's name is Ayesha")).outcome()).isEqualTo(Outcome.ADDED);
    assertThat(store.embeddedMemories(user)).hasSize(3);
  }

  @Test
  void addAll_deduplicatesWithinTheBatchToo_andReportsPerInput() {
    String user = user();
    service.add(user, NewMemory.of("GOAL", "Run a half marathon this year"));

    List<AddResult> results = service.addAll(user, List.of(
        NewMemory.of("GOAL", "run a half marathon this year!"),   // same text as the stored one
        NewMemory.of("PLAN", "Visit grandmother in Multan"),     // new
        NewMemory.of("PLAN", "Visit grandmother in Multan"),     // same as the one before, in this batch
        NewMemory.of("FACT", "My sister's name is Ayesha"),      // new
        NewMemory.of("FACT", "My sister is named Ayesha")));     // near duplicate of the one before

    assertThat(results).extracting(AddResult::outcome)
        .containsExactly(Outcome.UNCHANGED, Outcome.ADDED, Outcome.UNCHANGED, Outcome.ADDED, Outcome.UPDATED);
    assertThat(results.get(2).memory().id()).isEqualTo(results.get(1).memory().id());
    assertThat(results.get(4).memory().id()).isEqualTo(results.get(3).memory().id());
    assertThat(results.get(4).memory().content()).isEqualTo("My sister is named Ayesha");
    assertThat(store.embeddedMemories(user)).hasSize(3);
  }

  /** Same shape, other name, number or place: near in vector space, yet two facts. English and Urdu. */
  static final String[][] NEAR_MISSES = {
      {"My sister Sana lives in Lahore", "My sister Sana lives in Karachi"},
      {"I have 2 cats", "I have 3 cats"},
      {"My son Ali is 7 years old", "My son Ali is 9 years old"},
      {"میری بہن ثنا لاہور میں رہتی ہے", "میری بہن ثنا کراچی میں رہتی ہے"},
      {"میرے پاس دو بلیاں ہیں", "میرے پاس تین بلیاں ہیں"},
      {"میرے پاس 2 بلیاں ہیں", "میرے پاس 3 بلیاں ہیں"},
      {"میرا بیٹا علی سات سال کا ہے", "میرا بیٹا علی نو سال کا ہے"},
      {"میں کراچی میں کام کرتا ہوں", "میں لاہور میں کام کرتا ہوں"},
  };

  /** The same fact again in other words: merged. English and Urdu. */
  static final String[][] PARAPHRASES = {
      {"My sister Sana lives in Lahore", "Sana, my sister, lives in Lahore"},
      {"I have two cats", "I have 2 cats"},
      {"I love green tea with cardamom", "I really love green tea with cardamom"},
      {"Loves green tea with cardamom", "I love drinking green tea with cardamom"},
      {"My sister Sana lives in Lahore", "My sister Sana lives in Lahore now"},
      {"مجھے چائے بہت پسند ہے", "مجھے چائے پسند ہے"},
      {"مجھے سبز چائے پسند ہے", "مجھے سبز چائے بہت پسند ہے"},
      {"میری بہن ثنا لاہور میں رہتی ہے", "میری بہن ثنا لاہور میں رہتی ہیں"},
  };

  /** all-MiniLM-L6-v2's cosine: the near misses below were chosen for it (bge's own: BgeDuplicatesTest). */
  private static double cosine(String a, String b) {
    float[] x = OnnxEmbedder.allMiniLmL6V2().embed(a);
    float[] y = OnnxEmbedder.allMiniLmL6V2().embed(b);
    double dot = 0;
    for (int i = 0; i < x.length; i++) {
      dot += x[i] * y[i];
    }
    return dot;
  }

  @Test
  void add_nearMissOfTheSameShape_staysTwoMemories_inEnglishAndUrdu() {
    MemoryService miniLm = MemoryService.builder(store, OnnxEmbedder.allMiniLmL6V2()).build();
    for (String[] pair : NEAR_MISSES) {
      // Near enough that MiniLM's cosine alone would merge them: the distinctive words keep them apart.
      assertThat(cosine(pair[0], pair[1])).as("cosine of %s", List.of(pair)).isGreaterThanOrEqualTo(Embedder.DEFAULT_DUPLICATE_THRESHOLD);
      String user = user();
      miniLm.add(user, NewMemory.of("FACT", pair[0]));
      assertThat(miniLm.add(user, NewMemory.of("FACT", pair[1])).outcome()).as("%s", List.of(pair)).isEqualTo(Outcome.ADDED);
      assertThat(store.embeddedMemories(user)).hasSize(2);
      String inOneBatch = user();
      assertThat(miniLm.addAll(inOneBatch, List.of(NewMemory.of("FACT", pair[0]), NewMemory.of("FACT", pair[1]))))
          .extracting(AddResult::outcome).as("%s in one batch", List.of(pair)).containsExactly(Outcome.ADDED, Outcome.ADDED);
    }
  }

  @Test
  void add_paraphraseOfTheSameFact_isMerged_inEnglishAndUrdu() {
    for (String[] pair : PARAPHRASES) {
      String user = user();
      Memory first = service.add(user, NewMemory.of("FACT", pair[0])).memory();
      AddResult again = service.add(user, NewMemory.of("FACT", pair[1]));
      assertThat(again.outcome()).as("%s", List.of(pair)).isEqualTo(Outcome.UPDATED);
      assertThat(again.memory().id()).isEqualTo(first.id());
      assertThat(store.embeddedMemories(user)).hasSize(1);
    }
  }

  @Test
  void addAll_withoutDeduplication_storesEveryMemory() {
    String user = user();

    List<AddResult> results = service.addAll(user, List.of(NewMemory.of("FACT", "Thanks!"), NewMemory.of("FACT", "Thanks!")), false);

    assertThat(results).extracting(AddResult::outcome).containsExactly(Outcome.ADDED, Outcome.ADDED);
    assertThat(store.embeddedMemories(user)).hasSize(2).allSatisfy(e -> assertThat(e.embedding()).isNotNull());
  }

  @Test
  void addAll_invalidMemory_writesNothingAndNamesIt() {
    String user = user();

    assertThatThrownBy(() -> service.addAll(user, List.of(NewMemory.of("FACT", "fine"), NewMemory.of("FACT", " "))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("memories[1].content");
    assertThatThrownBy(() -> service.addAll(user, List.of(NewMemory.of("FACT", "fine"), NewMemory.of("NOPE", "x"))))
        .hasMessageContaining("memories[1].").hasMessageContaining("unknown category");
    assertThatThrownBy(() -> service.addAll(user, List.of(NewMemory.of("FACT", "fine"), new NewMemory("FACT", "y", "[1]", null))))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("metadata");
    assertThat(store.embeddedMemories(user)).isEmpty();
  }

  @Test
  void add_keepsTheUsersSearchState_withTheWriteApplied_insteadOfReadingItAgain() {
    String user = user();
    service.add(user, NewMemory.of("FACT", "Has a cat called Biscuit"));
    service.add(user, NewMemory.of("PREFERENCE", "Loves green tea with cardamom"));
    service.preload(user);
    long loads = service.searchIndex().loads();

    Memory dog = service.add(user, NewMemory.of("FACT", "Adopted a dog named Sheru last week")).memory();
    assertThat(contents(service.search(user, SearchRequest.of("Sheru", 5)))).contains(dog.content());
    AddResult merged = service.add(user, NewMemory.of("PREFERENCE", "I love drinking green tea with cardamom"));
    assertThat(merged.outcome()).isEqualTo(Outcome.UPDATED);
    assertThat(contents(service.search(user, SearchRequest.of("green tea", 5))))
        .contains("I love drinking green tea with cardamom").doesNotContain("Loves green tea with cardamom");
    assertThat(service.add(user, NewMemory.of("FACT", "Has a cat called Biscuit")).outcome()).isEqualTo(Outcome.UNCHANGED);

    // Never read again: and each guarded write found the store as the kept state said it was.
    assertThat(service.searchIndex().loads()).isEqualTo(loads);
    assertThat(store.embeddedMemories(user)).hasSize(3);
  }

  @Test
  void written_keepsNothing_whenAnotherInvalidationCameDuringTheWrite() {
    String user = user();
    service.add(user, NewMemory.of("FACT", "Has a cat called Biscuit"));
    SearchIndex index = service.searchIndex();
    String text = "Adopted a dog named Sheru last week";
    float[] vector = OnnxEmbedder.shared().embed(text);
    SearchIndex.Duplicates before = index.duplicatesOf(user, List.of("FACT"), List.of(text), List.of(vector),
        Embedder.DEFAULT_DUPLICATE_THRESHOLD);
    long invalidations = index.invalidations(user);
    List<MemoryWrite> writes = List.of(new MemoryWrite.Insert(NewMemory.of("FACT", text),
        new Embedding(OnnxEmbedder.shared().modelId(), vector)));
    List<Memory> written = store.write(user, writes, before.seen(), null); // the store invalidates once
    service.invalidate(user); // and a write elsewhere once more
    index.written(before, invalidations, writes, written);
    long loads = index.loads();

    assertThat(contents(service.search(user, SearchRequest.of("Sheru", 5)))).contains(text);
    assertThat(index.loads()).isEqualTo(loads + 1); // read from the store: the derived state was not kept
  }

  @Test
  void preload_loadsTheUsersState_invalidateDropsIt() {
    String user = user();
    service.add(user, NewMemory.of("FACT", "Has a cat called Biscuit"));
    service.invalidate(user); // the add left the user's state held
    long before = service.searchIndex().loadedUsers();

    service.preload(user);
    assertThat(service.searchIndex().loadedUsers()).isEqualTo(before + 1);
    service.invalidate(user);
    assertThat(service.searchIndex().loadedUsers()).isEqualTo(before);
  }

  @Test
  void warmUpInBackground_completes() throws Exception {
    service.warmUpInBackground().get();
  }

  @Test
  void reembed_givesEveryStaleMemoryACurrentVector_andSearchUsesIt() {
    String user = user();
    Memory plain = TestWrites.insert(store, user, NewMemory.of("FACT", "Grew up near the sea in Gwadar"));   // written around the service
    Memory other = service.add(user, NewMemory.of("FACT", "Teaches mathematics at a girls' college")).memory();
    store.putEmbeddings(List.of(new EmbeddedMemory(other, new Embedding("some-other-model", new float[] {1, 0, 0}))));
    service.invalidate(user);

    // Without a current vector a memory is still found by its words.
    assertThat(contents(service.search(user, SearchRequest.of("Gwadar", 1)))).containsExactly(plain.content());

    Reembedder.Result result = new Reembedder(store, OnnxEmbedder.shared(), service::invalidate).run(1);

    assertThat(result.updated()).isGreaterThanOrEqualTo(2);
    assertThat(store.staleEmbeddings(OnnxEmbedder.DEFAULT_MODEL_ID, null, 10)).isEmpty();
    assertThat(store.embeddedMemories(user)).allSatisfy(e -> assertThat(e.embedding().model()).isEqualTo(OnnxEmbedder.DEFAULT_MODEL_ID));
    assertThat(contents(service.search(user, SearchRequest.of("childhood by the ocean", 1)))).containsExactly(plain.content());
  }
}
