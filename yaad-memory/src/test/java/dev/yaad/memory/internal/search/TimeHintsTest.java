package dev.yaad.memory.internal.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimeHintsTest {
  private static long at(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  @Test
  void monthName_matchesThatMonthOfAnyYear() {
    TimeHints june = TimeHints.of("When did Melanie go camping in June?");

    assertThat(june.matches(at("2023-06-27T10:00:00Z"))).isTrue();
    assertThat(june.matches(at("2021-06-01T00:00:00Z"))).isTrue();
    assertThat(june.matches(at("2023-07-01T00:00:00Z"))).isFalse();
  }

  @Test
  void monthAndYear_mustBothMatch_andUrduMonthsCount() {
    TimeHints hints = TimeHints.of("what happened in Sept 2023");
    assertThat(hints.matches(at("2023-09-15T00:00:00Z"))).isTrue();
    assertThat(hints.matches(at("2022-09-15T00:00:00Z"))).isFalse();

    assertThat(TimeHints.of("جون میں کیا ہوا؟").matches(at("2024-06-03T00:00:00Z"))).isTrue();
    assertThat(TimeHints.of("trip in May 2023").matches(at("2023-05-20T00:00:00Z"))).isTrue();
  }

  @Test
  void ordinaryWords_areNoTimeHints() {
    assertThat(TimeHints.of("May I ask what she likes?").isEmpty()).isTrue();
    assertThat(TimeHints.of("she may go to the march").isEmpty()).isTrue();
    assertThat(TimeHints.of("room 2023b has 12345 books").isEmpty()).isTrue();
  }
}
