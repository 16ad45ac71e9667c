package dev.yaad.memory.internal.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.Embedding;
import dev.yaad.memory.search.SearchConfig;
import dev.yaad.memory.search.SearchHit;
import dev.yaad.memory.search.SearchRequest;
import dev.yaad.memory.Memory;
import dev.yaad.memory.embed.OnnxEmbedder;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Ranking behaviour on real vectors (the ONNX model): results that do not depend on k, and
 * what each component of the ranking does. A conversation-shaped corpus: two people, 36 calls
 * of 16 turns over a year, in English and Urdu.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RankingTest {
  private static final ZonedDateTime NOW = ZonedDateTime.of(2024, 3, 1, 12, 0, 0, 0, ZoneOffset.UTC);
  private static final String[] PEOPLE = {"Ayesha", "Bilal"};
  private static final String[] TOPICS = {
      "went hiking in the Margalla hills with %s", "cooked biryani for %s on the weekend",
      "started a pottery class with %s", "adopted a cat and named it after %s", "visited %s in Lahore",
      "read a novel that %s recommended", "signed up for a 5K charity run with %s", "painted a sunset for %s",
      "lost the job at the bank and told %s", "planned a trip to Skardu with %s", "پہاڑوں میں %s کے ساتھ سیر کی",
      "%s کے لیے چائے بنائی", "bought new running shoes because %s said so", "played cricket with %s on Sunday",
      "volunteered at the shelter with %s", "learned the guitar from %s"};
  private static final String[] FRIENDS = {"Sana", "Hamza", "Zara", "Omar", "Hina", "Usman", "Maryam", "Faisal"};
  private static final String[] CHATTER = {
      "Wow, that's awesome! How did it go?", "Thanks! It was really fun.", "What did you do after that?",
      "I'm so proud of you!", "Haha, sounds like a blast.", "Talk to you soon!", "کیا بات ہے! بہت اچھا",
      "That must have been tough. How are you feeling?"};

  private UserIndex index;
  private final Map<String, float[]> queryVectors = new HashMap<>();
  private final List<String> queries = List.of(
      "What did Ayesha cook?", "Who went hiking with Bilal?", "When did Bilal start pottery?",
      "What did Ayesha do on 14 June 2023?", "What happened last week?", "Where did they travel in March?",
      "What activities has Bilal done with Sana?", "What pets does Ayesha have?", "کرکٹ کس کے ساتھ کھیلی؟",
      "پچھلے جمعہ کیا ہوا؟", "Which books did Ayesha read?", "How did Bilal feel about losing his job?",
      "What did they do two weeks before the charity run?", "the trip to Skardu", "چائے", "guitar lessons");

  @BeforeAll
  void buildCorpus() {
    SplittableRandom random = new SplittableRandom(42);
    List<String> texts = new ArrayList<>();
    List<Instant> times = new ArrayList<>();
    LocalDate day = LocalDate.of(2023, 3, 2);
    for (int call = 0; call < 36; call++) {
      Instant at = day.atTime(18, 0).toInstant(ZoneOffset.UTC);
      for (int turn = 0; turn < 16; turn++) {
        String speaker = PEOPLE[turn % 2];
        String text = random.nextInt(3) == 0
            ? "I " + TOPICS[random.nextInt(TOPICS.length)].formatted(FRIENDS[random.nextInt(FRIENDS.length)]) + "."
            : CHATTER[random.nextInt(CHATTER.length)];
        texts.add(speaker + ": " + text);
        times.add(at.plusSeconds(turn));
      }
      day = day.plusDays(3 + random.nextInt(15));
    }
    List<float[]> vectors = OnnxEmbedder.allMiniLmL6V2().embed(texts);
    List<EmbeddedMemory> rows = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      rows.add(row(texts.get(i), times.get(i), vectors.get(i)));
    }
    index = UserIndex.build("u", rows, OnnxEmbedder.MINILM_MODEL_ID, OnnxEmbedder.DIMENSION, TextAnalysis.DEFAULT);
  }

  private static EmbeddedMemory row(String text, Instant occurredAt, float[] vector) {
    Instant created = occurredAt.plusSeconds(1);
    return new EmbeddedMemory(new Memory(UUID.randomUUID(), "u", "EXPERIENCE", text, "{}", occurredAt, created, created),
        vector == null ? null : new Embedding(OnnxEmbedder.MINILM_MODEL_ID, vector));
  }

  private static List<String> ids(List<SearchHit> hits) {
    return hits.stream().map(h -> h.memory().id().toString()).toList();
  }

  private List<SearchHit> search(UserIndex in, String query, int k, SearchConfig config) {
    float[] vector = queryVectors.computeIfAbsent(query, OnnxEmbedder.allMiniLmL6V2()::embed);
    return in.search(SearchRequest.of(query, k), vector, List.of(), config, NOW);
  }

  @Test
  void firstHits_doNotDependOnK() {
    for (SearchConfig config : List.of(SearchConfig.defaults(), SearchConfig.previousDefaults().withMaxIndexBytes(1 << 20))) {
      for (String query : queries) {
        List<String> ten = ids(search(index, query, 10, config));
        assertThat(ten).as(query).hasSize(10);
        assertThat(ids(search(index, query, 50, config)).subList(0, 10)).as(query).isEqualTo(ten);
        assertThat(ids(search(index, query, SearchRequest.MAX_K, config)).subList(0, 10)).as(query).isEqualTo(ten);
        assertThat(ids(search(index, query, 3, config))).as(query).isEqualTo(ten.subList(0, 3));
      }
    }
  }

  /** A tiny index with lexical ranking only, so that each test shows one component's effect exactly. */
  private static UserIndex tiny(String... texts) {
    return dayApart(texts, null);
  }

  /** The texts as memories a day apart (no neighbours), with these vectors (null: none). */
  private static UserIndex dayApart(String[] texts, List<float[]> vectors) {
    List<EmbeddedMemory> rows = new ArrayList<>();
    Instant t = Instant.parse("2023-01-01T10:00:00Z");
    for (int i = 0; i < texts.length; i++) {
      rows.add(row(texts[i], t, vectors == null ? null : vectors.get(i)));
      t = t.plusSeconds(86_400);
    }
    return UserIndex.build("u", rows, OnnxEmbedder.MINILM_MODEL_ID, OnnxEmbedder.DIMENSION, TextAnalysis.DEFAULT);
  }

  private static List<String> lexical(UserIndex in, String query, SearchConfig config) {
    return in.search(SearchRequest.of(query, 10), null, List.of(), config, NOW).stream().map(h -> h.memory().content()).toList();
  }

  @Test
  void questionWords_doNotMatchMemoriesThatAsk() {
    UserIndex in = tiny("What did you do today, Bilal?", "Bilal cooked biryani for the family.", "The weather was nice.",
        "We watched a film.");
    SearchConfig lexicalOnly = SearchConfig.defaults().withWeights(0, 1).withFollowWeight(0).withDiversity(0)
        .withQuestionPenalty(0);

    assertThat(lexical(in, "What did Bilal cook?", lexicalOnly).getFirst()).isEqualTo("Bilal cooked biryani for the family.");
    assertThat(lexical(in, "What did Bilal cook?", lexicalOnly.withQuestionWords(true)).getFirst())
        .isEqualTo("What did you do today, Bilal?");
    assertThat(QuestionWords.drop(TextAnalysis.DEFAULT.terms("آپ نے کب اور کہاں چائے پی؟")))
        .isEqualTo(TextAnalysis.DEFAULT.terms("آپ نے اور چائے پی"));
  }

  @Test
  void follow_findsWhatTheFirstHitsRareWordsLeadTo() {
    List<String> texts = new ArrayList<>(List.of("My sister is called Ayesha.", "Ayesha started working as a nurse at the hospital."));
    for (int i = 0; i < 40; i++) { // a rare word is in at most one memory in twenty
      texts.add(List.of("I like tea.", "I went to the market.", "It rained all day.", "The film was long.").get(i % 4));
    }
    UserIndex in = tiny(texts.toArray(String[]::new));
    SearchConfig lexicalOnly = SearchConfig.defaults().withWeights(0, 1).withDiversity(0);

    assertThat(lexical(in, "my sister", lexicalOnly.withFollowWeight(0)))
        .doesNotContain("Ayesha started working as a nurse at the hospital.");
    assertThat(lexical(in, "my sister", lexicalOnly))
        .startsWith("My sister is called Ayesha.", "Ayesha started working as a nurse at the hospital.");
    // Among a handful of memories nothing is rare: nothing is followed.
    UserIndex few = tiny("My sister is called Ayesha.", "Ayesha started working as a nurse at the hospital.", "I like tea.");
    assertThat(lexical(few, "my sister", lexicalOnly)).containsExactly("My sister is called Ayesha.");
  }

  @Test
  void neighbours_carryContextUpToTheConfiguredDistance() {
    List<EmbeddedMemory> rows = new ArrayList<>();
    Instant call = Instant.parse("2023-05-01T10:00:00Z");
    String[] turns = {"Guess where we went for the holidays", "Hunza!", "So beautiful", "Loved it", "Bye"};
    for (int i = 0; i < turns.length; i++) {
      rows.add(row(turns[i], call.plusSeconds(i), null));
    }
    rows.add(row("Unrelated note", call.plusSeconds(86_400), null));
    UserIndex in = UserIndex.build("u", rows, OnnxEmbedder.MINILM_MODEL_ID, OnnxEmbedder.DIMENSION, TextAnalysis.DEFAULT);
    SearchConfig lexicalOnly = SearchConfig.defaults().withWeights(0, 1).withFollowWeight(0).withDiversity(0);

    assertThat(lexical(in, "holidays", lexicalOnly.withNeighbours(1))).containsExactly(
        "Guess where we went for the holidays", "Hunza!");
    assertThat(lexical(in, "holidays", lexicalOnly.withNeighbours(2))).containsExactly(
        "Guess where we went for the holidays", "Hunza!", "So beautiful");
  }

  @Test
  void namedTimes_preferWhatHappenedThen_daysAndEvents() {
    List<EmbeddedMemory> rows = new ArrayList<>();
    rows.add(row("Went to the market for vegetables", Instant.parse("2023-10-01T10:00:00Z"), null));
    rows.add(row("Went to the market for a new phone", Instant.parse("2023-10-03T10:00:00Z"), null));
    rows.add(row("Went to the market for shoes", Instant.parse("2023-10-20T10:00:00Z"), null));
    rows.add(row("Her birthday party was lovely", Instant.parse("2023-11-05T10:00:00Z"), null));
    rows.add(row("Went to the market for a gift", Instant.parse("2023-10-24T10:00:00Z"), null));
    for (int i = 0; i < 20; i++) {
      rows.add(row("A note about nothing much", Instant.parse("2022-01-01T00:00:00Z").plusSeconds(86_400L * i), null));
    }
    UserIndex in = UserIndex.build("u", rows, OnnxEmbedder.MINILM_MODEL_ID, OnnxEmbedder.DIMENSION, TextAnalysis.DEFAULT);
    SearchConfig lexicalOnly = SearchConfig.defaults().withWeights(0, 1).withFollowWeight(0).withDiversity(0);

    assertThat(lexical(in, "What did I buy at the market on 3 October 2023?", lexicalOnly).getFirst())
        .isEqualTo("Went to the market for a new phone");
    assertThat(lexical(in, "What did I buy at the market on 3 October 2023?", lexicalOnly.withTimeWeight(0)).getFirst())
        .isEqualTo("Went to the market for vegetables"); // without time: the oldest of equals
    // Two weeks before her birthday (5 November): 22 October on.
    assertThat(lexical(in, "What did I buy at the market two weeks before her birthday?", lexicalOnly))
        .filteredOn(text -> text.contains("market")).first().isEqualTo("Went to the market for a gift");
    // Relative to the query's time, which the caller gives (SearchIndex: the request's time or its clock).
    ZonedDateTime fourthOfOctober = ZonedDateTime.of(2023, 10, 4, 12, 0, 0, 0, ZoneOffset.UTC);
    assertThat(in.search(SearchRequest.of("market yesterday", 10), null, List.of(), lexicalOnly, fourthOfOctober)
        .getFirst().memory().content()).isEqualTo("Went to the market for a new phone");
    assertThat(in.search(SearchRequest.of("market yesterday", 10), null, List.of(), lexicalOnly.withTimeWeight(0), fourthOfOctober)
        .getFirst().memory().content()).isEqualTo("Went to the market for vegetables");
  }

  @Test
  void diversity_letsSomethingElsePassANearRepeat_andKeepsItsPrefix() {
    int dim = 3;
    float[] matrix = {1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0};
    boolean[] hasVector = {true, true, true, true};
    float[] fused = {1.0f, 0.99f, 0.98f, 0.9f};

    assertThat(Diversity.select(fused, 4, 0.3, matrix, hasVector, dim)).containsExactly(0, 3, 1, 2);
    assertThat(Diversity.select(fused, 2, 0.3, matrix, hasVector, dim)).containsExactly(0, 3);
    assertThat(Diversity.select(fused, 4, 0.05, matrix, hasVector, dim)).containsExactly(0, 1, 2, 3);
  }

  @Test
  void memoriesThatAsk_endInAQuestionMark_inEnglishAndUrdu() {
    assertThat(UserIndex.asks("What did you cook on Friday?")).isTrue();
    assertThat(UserIndex.asks("Bilal: Did you see \"Dune\"?\" ")).isTrue();
    assertThat(UserIndex.asks("آپ نے جمعہ کو کیا پکایا؟")).isTrue();
    assertThat(UserIndex.asks("Is it done? Yes, it is.")).isFalse();
    assertThat(UserIndex.asks("میں نے بریانی پکائی۔")).isFalse();
    assertThat(UserIndex.asks("")).isFalse();
  }

  /**
   * A question that repeats the query's words ("What did you cook on Friday?") is nearer the
   * query, in words and in vector, than the statement that answers it; the penalty lets the
   * answer pass it. Real vectors, memories a day apart (no neighbours).
   */
  @Test
  void questionPenalty_letsTheAnswerPassTheQuestion_inEnglishAndUrdu() {
    String[] english = {"Bilal: Ayesha, what did you cook for the family on Friday?",
        "Ayesha: I cooked biryani and raita for the whole family on Friday, it took all afternoon.",
        "Ayesha: We went to the market on Sunday.", "Bilal: My sister got a new job.", "Ayesha: The cat slept all day."};
    String[] urdu = {"بلال: عائشہ، آپ نے جمعہ کو گھر والوں کے لیے کیا پکایا؟",
        "عائشہ: میں نے جمعہ کو سارے گھر والوں کے لیے بریانی اور رائتہ پکایا، پوری دوپہر لگ گئی۔",
        "عائشہ: ہم اتوار کو بازار گئے۔", "بلال: میری بہن کو نئی نوکری مل گئی۔", "عائشہ: بلی سارا دن سوتی رہی۔"};
    SearchConfig config = SearchConfig.defaults().withFollowWeight(0).withDiversity(0).withQuestionPenalty(0.1);
    for (var c : List.of(Map.entry(english, "What did Ayesha cook for the family on Friday?"),
        Map.entry(urdu, "عائشہ نے جمعہ کو گھر والوں کے لیے کیا پکایا؟"))) {
      UserIndex in = embedded(c.getKey());
      assertThat(first(in, c.getValue(), config.withQuestionPenalty(0))).as(c.getValue()).isEqualTo(c.getKey()[0]);
      assertThat(first(in, c.getValue(), config)).as(c.getValue()).isEqualTo(c.getKey()[1]);
    }
  }

  private static UserIndex embedded(String... texts) {
    return dayApart(texts, OnnxEmbedder.allMiniLmL6V2().embed(List.of(texts)));
  }

  private String first(UserIndex in, String query, SearchConfig config) {
    return search(in, query, 5, config).getFirst().memory().content();
  }
}
