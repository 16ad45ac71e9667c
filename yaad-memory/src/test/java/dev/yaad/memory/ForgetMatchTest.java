package dev.yaad.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.search.ForgetRule;
import dev.yaad.memory.search.Match;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Forget ..." with a description matches a memory only on both words and meaning, with the
 * real in-process embedding model (all-MiniLM-L6-v2), in English and Urdu: never the top search
 * hit whatever its score.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForgetMatchTest {
  static final List<String> ENGLISH = List.of("Has a goldfish named Bubbles", "Plays chess every Sunday",
      "Has a cat named Biscuit", "Works as a nurse at the city hospital", "Wants to run a marathon next spring");
  static final List<String> URDU = List.of("میری بہن کا نام عائشہ ہے", "مجھے چائے پسند ہے", "میں ہر اتوار کو شطرنج کھیلتا ہوں",
      "میرے پاس ایک سنہری مچھلی ہے", "میں لاہور میں رہتی ہوں");

  @TempDir static Path dir;
  Memories memories;

  @BeforeAll
  void open() {
    memories = Memories.builder().store(TestStores.h2(dir)).build();
    memories.addAll("en", ENGLISH.stream().map(c -> NewMemory.of("FACT", c)).toList(), false);
    memories.addAll("ur", URDU.stream().map(c -> NewMemory.of("FACT", c)).toList(), false);
    memories.add("chess-only", NewMemory.of("INTEREST", "plays chess every Sunday"));
    memories.add("shatranj-only", NewMemory.of("INTEREST", "میں ہر اتوار کو شطرنج کھیلتا ہوں"));
    memories.addAll("two-fish", List.of(NewMemory.of("FACT", "Has a goldfish named Bubbles"),
        NewMemory.of("FACT", "The goldfish tank sits in the living room")), false);
  }

  @AfterAll
  void close() {
    memories.close();
  }

  @Test
  void theGoldfish_isNeverTheChess_evenWhenChessIsTheOnlyMemory() {
    assertThat(memories.matchToForget("chess-only", "my goldfish")).isEmpty();
    assertThat(memories.matchToForget("chess-only", "forget my goldfish")).isEmpty();
    assertThat(memories.matchToForget("shatranj-only", "سنہری مچھلی")).isEmpty();
  }

  @Test
  void english_theMemoryMeant_whenWordsAndMeaningAgree() {
    assertThat(only("en", "my goldfish")).isEqualTo("Has a goldfish named Bubbles");
    assertThat(only("en", "forget my goldfish")).isEqualTo("Has a goldfish named Bubbles");
    assertThat(only("en", "chess")).isEqualTo("Plays chess every Sunday");
    assertThat(only("en", "that I work as a nurse")).isEqualTo("Works as a nurse at the city hospital");
    assertThat(only("en", "Has a cat named Biscuit")).isEqualTo("Has a cat named Biscuit");
  }

  @Test
  void english_nothing_whenOnlyOneKindOfEvidence_orNone() {
    assertThat(memories.matchToForget("en", "my dog")).as("no shared word (the cat is the nearest meaning)").isEmpty();
    assertThat(memories.matchToForget("en", "my sister")).isEmpty();
    assertThat(memories.matchToForget("en", "the thing I told you")).as("request words only").isEmpty();
    assertThat(memories.matchToForget("en", "a goldfish named Biscuit")).as("words of two memories, half of each")
        .extracting(m -> m.memory().content()).doesNotContain("Plays chess every Sunday", "Works as a nurse at the city hospital");
  }

  @Test
  void urdu_theMemoryMeant_andNothingForAnUnrelatedWord() {
    assertThat(only("ur", "سنہری مچھلی")).isEqualTo("میرے پاس ایک سنہری مچھلی ہے");
    assertThat(only("ur", "میری بہن")).isEqualTo("میری بہن کا نام عائشہ ہے");
    assertThat(only("ur", "شطرنج")).isEqualTo("میں ہر اتوار کو شطرنج کھیلتا ہوں");
    // Unrelated Urdu sentences are close in meaning for this English model (cosine 0.4 to 0.8): words decide.
    assertThat(memories.matchToForget("ur", "کتا")).as("dog").isEmpty();
    assertThat(memories.matchToForget("ur", "میں بھول جاؤ")).as("request words only").isEmpty();
  }

  @Test
  void severalCloseMatches_areAllReturned_soNothingIsForgotten() {
    List<Match> close = memories.matchToForget("two-fish", "my goldfish");
    assertThat(close).extracting(m -> m.memory().content())
        .containsExactly("Has a goldfish named Bubbles", "The goldfish tank sits in the living room");
    assertThat(close.get(0).cosine()).isGreaterThanOrEqualTo(close.get(1).cosine());
    assertThat(only("two-fish", "Has a goldfish named Bubbles")).as("the exact text is well ahead").isEqualTo("Has a goldfish named Bubbles");
  }

  @Test
  void theRule_isConfigurable_andChecked() {
    try (Memories strict = Memories.builder().store(TestStores.h2(dir.resolve("strict")))
        .forgetRule(new ForgetRule(0.9, 1.0, 0.15)).build()) {
      strict.add("en", NewMemory.of("FACT", "Has a goldfish named Bubbles"));
      assertThat(strict.matchToForget("en", "my goldfish")).as("cosine 0.63 < 0.9").isEmpty();
      assertThat(strict.matchToForget("en", "Has a goldfish named Bubbles")).hasSize(1);
    }
    assertThatThrownBy(() -> new ForgetRule(0.3, 0, 0.1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("minWordShare must be in (0, 1]");
    assertThatThrownBy(() -> memories.matchToForget("en", " ")).isInstanceOf(InvalidInputException.class);
  }

  private String only(String user, String description) {
    List<Match> matches = memories.matchToForget(user, description);
    assertThat(matches).as("matches of '%s'", description).hasSize(1);
    return matches.getFirst().memory().content();
  }
}
