package dev.yaad.memory.internal.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class TimeHintsTest {
  /** The query's time in these tests: Wednesday 10 January 2024, 15:00 in Karachi. */
  private static final ZoneId KARACHI = ZoneId.of("Asia/Karachi");
  private static final ZonedDateTime NOW = ZonedDateTime.of(2024, 1, 10, 15, 0, 0, 0, KARACHI);

  private static long at(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  /** Noon of that day in Karachi. */
  private static long day(String isoDate) {
    return LocalDate.parse(isoDate).atTime(12, 0).atZone(KARACHI).toInstant().toEpochMilli();
  }

  /**
   * The days (noon in Karachi) from {@code from} to {@code to}, both included, that the hints
   * match. A span also matches memories written up to its own length after it (a day: the day
   * after; a week: the week after), which the ranges below take into account.
   */
  private static List<String> matchedDays(TimeHints hints, String from, String to) {
    return Stream.iterate(LocalDate.parse(from), d -> !d.isAfter(LocalDate.parse(to)), d -> d.plusDays(1))
        .filter(d -> hints.matches(day(d.toString()))).map(LocalDate::toString).toList();
  }

  private static TimeHints hints(String query) {
    return TimeHints.of(query, NOW);
  }

  @Test
  void monthName_matchesThatMonthOfAnyYear() {
    TimeHints june = TimeHints.of("When did Melanie go camping in June?");

    assertThat(june.matches(at("2023-06-27T10:00:00Z"))).isTrue();
    assertThat(june.matches(at("2021-06-01T00:00:00Z"))).isTrue();
    assertThat(june.matches(at("2023-07-01T00:00:00Z"))).isFalse();
  }

  @Test
  void monthAndYear_nameOneMonth_andUrduMonthsCount() {
    TimeHints hints = TimeHints.of("what happened in Sept 2023");
    assertThat(hints.matches(at("2023-09-15T00:00:00Z"))).isTrue();
    assertThat(hints.matches(at("2022-09-15T00:00:00Z"))).isFalse();

    assertThat(TimeHints.of("جون میں کیا ہوا؟").matches(at("2024-06-03T00:00:00Z"))).isTrue();
    assertThat(TimeHints.of("trip in May 2023").matches(at("2023-05-20T00:00:00Z"))).isTrue();
    assertThat(TimeHints.of("trip in May 2023").matches(at("2023-06-20T00:00:00Z"))).isTrue(); // told in June
    assertThat(TimeHints.of("trip in May 2023").matches(at("2023-07-02T00:00:00Z"))).isFalse();
  }

  @Test
  void ordinaryWords_areNoTimeHints() {
    assertThat(TimeHints.of("May I ask what she likes?").isEmpty()).isTrue();
    assertThat(TimeHints.of("she may go to the march").isEmpty()).isTrue();
    assertThat(TimeHints.of("room 2023b has 12345 books").isEmpty()).isTrue();
    assertThat(TimeHints.of("What did she say about her day at work?").isEmpty()).isTrue();
  }

  @Test
  void namedDay_inEveryWrittenForm_isThatDayInTheQuerysZone() {
    for (String q : List.of("Which city was she in on 3 October 2023?", "Where was she on October 3rd, 2023?",
        "what about 2023-10-03", "on the 3rd of October, 2023", "3 اکتوبر 2023 کو وہ کہاں تھی؟", "۳ اکتوبر ۲۰۲۳")) {
      assertThat(matchedDays(hints(q), "2023-09-25", "2023-10-10")).as(q).containsExactly("2023-10-03", "2023-10-04");
    }
    // Midnight in Karachi is still the day before in UTC: the day is the query's day.
    TimeHints third = hints("on 3 October 2023");
    assertThat(third.matches(at("2023-10-02T19:30:00Z"))).isTrue();
    assertThat(third.matches(at("2023-10-02T18:30:00Z"))).isFalse();
    assertThat(third.matches(at("2023-10-04T18:30:00Z"))).isTrue(); // remembered the day after
    assertThat(third.matches(at("2023-10-04T19:30:00Z"))).isFalse();
  }

  @Test
  void dayWithoutYear_isThatDayOfAnyYear() {
    TimeHints birthday = hints("What did we do on 13 August?");
    assertThat(birthday.matches(day("2021-08-13"))).isTrue();
    assertThat(birthday.matches(day("2023-08-13"))).isTrue();
    assertThat(birthday.matches(day("2023-08-14"))).isFalse(); // a day of any year is matched exactly
  }

  @Test
  void relativeToANamedDay_runsFromTheEventToThatDay() {
    // From the event (2 June) to the day it is relative to (9 June), and as long again after.
    assertThat(matchedDays(hints("When did she give the speech, the week before 9 June 2023?"), "2023-05-25", "2023-06-30"))
        .first().isEqualTo("2023-06-02");
    assertThat(matchedDays(hints("When did she give the speech, the week before 9 June 2023?"), "2023-05-25", "2023-06-30"))
        .hasSize(16).last().isEqualTo("2023-06-17");
    assertThat(matchedDays(hints("What puppy did she get two weeks before August 11, 2023?"), "2023-07-20", "2023-08-20"))
        .first().isEqualTo("2023-07-28");
    assertThat(matchedDays(hints("What puppy did she get two weeks before August 11, 2023?"), "2023-07-20", "2023-08-20"))
        .contains("2023-08-11");
    // 15 July 2023 was a Saturday: the Friday before is the 14th.
    assertThat(matchedDays(hints("Where was he the Friday before 15 July 2023?"), "2023-07-01", "2023-07-31"))
        .containsExactly("2023-07-14", "2023-07-15", "2023-07-16", "2023-07-17");
    assertThat(matchedDays(hints("What did she do last weekend before April 10, 2023?"), "2023-04-01", "2023-04-30"))
        .containsExactly("2023-04-08", "2023-04-09", "2023-04-10", "2023-04-11", "2023-04-12", "2023-04-13");
    assertThat(matchedDays(hints("What happened the week of 23 August 2023?"), "2023-08-15", "2023-09-10"))
        .hasSize(14).startsWith("2023-08-21").endsWith("2023-09-03");
    assertThat(matchedDays(hints("9 جون 2023 سے ایک ہفتہ پہلے کیا ہوا؟"), "2023-05-25", "2023-06-30"))
        .hasSize(16).startsWith("2023-06-02").contains("2023-06-09");
  }

  @Test
  void relativeToTheQuerysTime_runsFromTheEventToToday_english() {
    // NOW is Wednesday 10 January 2024.
    assertThat(matchedDays(hints("What did I eat yesterday?"), "2024-01-01", "2024-01-10")).containsExactly("2024-01-09", "2024-01-10");
    assertThat(matchedDays(hints("Where did we go last Friday?"), "2024-01-01", "2024-01-10"))
        .containsExactly("2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2024-01-09", "2024-01-10");
    assertThat(matchedDays(hints("what did I do last week"), "2023-12-25", "2024-01-12")).first().isEqualTo("2024-01-01");
    assertThat(matchedDays(hints("what did I do last weekend"), "2023-12-25", "2024-01-12")).first().isEqualTo("2024-01-06");
    assertThat(matchedDays(hints("the movie two weeks ago"), "2023-12-20", "2024-01-12")).first().isEqualTo("2023-12-27");
    assertThat(matchedDays(hints("three days ago"), "2023-12-20", "2024-01-12")).first().isEqualTo("2024-01-07");
    assertThat(matchedDays(hints("last month"), "2023-11-20", "2024-01-12")).first().isEqualTo("2023-12-01");
    assertThat(hints("last year").matches(day("2023-03-01"))).isTrue();
    assertThat(hints("last year").matches(day("2022-12-31"))).isFalse();
    assertThat(matchedDays(hints("what are my plans for next week?"), "2024-01-01", "2024-01-31"))
        .hasSize(14).startsWith("2024-01-15").endsWith("2024-01-28");
  }

  @Test
  void relativeToTheQuerysTime_urdu() {
    assertThat(matchedDays(hints("پچھلے جمعہ ہم کہاں گئے تھے؟"), "2024-01-01", "2024-01-12"))
        .first().isEqualTo("2024-01-05");
    assertThat(matchedDays(hints("دو ہفتے پہلے کون سی فلم دیکھی؟"), "2023-12-20", "2024-01-12")).first().isEqualTo("2023-12-27");
    assertThat(matchedDays(hints("پچھلے ہفتے کیا کیا؟"), "2023-12-25", "2024-01-12")).first().isEqualTo("2024-01-01");
    assertThat(matchedDays(hints("پچھلے مہینے"), "2023-11-20", "2024-01-12")).first().isEqualTo("2023-12-01");
    // کل is yesterday or tomorrow; both count.
    assertThat(matchedDays(hints("کل کیا کھایا؟"), "2024-01-01", "2024-01-11")).containsExactly("2024-01-09", "2024-01-10", "2024-01-11");
    assertThat(matchedDays(hints("ہفتے کو کرکٹ کھیلی"), "2024-01-01", "2024-01-12")).first().isEqualTo("2024-01-06");
  }

  @Test
  void relativeToAnEvent_isPendingUntilTheEventsTimeIsKnown() {
    TimeHints hints = hints("What did she buy two weeks before her birthday?");
    assertThat(hints.pendingEvents()).containsExactly(new TimeHints.EventRelation("her birthday", 2, "week", true));
    assertThat(hints.spans()).isEmpty();

    Instant birthday = LocalDate.parse("2023-08-13").atTime(18, 0).atZone(KARACHI).toInstant();
    TimeHints resolved = hints.resolveEvents(phrase -> phrase.equals("her birthday") ? birthday : null);
    assertThat(matchedDays(resolved, "2023-07-20", "2023-08-20")).first().isEqualTo("2023-07-30");
    assertThat(matchedDays(resolved, "2023-07-20", "2023-08-20")).contains("2023-08-13");

    TimeHints urdu = hints("اس کی سالگرہ سے دو ہفتے پہلے کیا خریدا؟");
    assertThat(urdu.pendingEvents()).singleElement().satisfies(r -> {
      assertThat(r.phrase()).endsWith("سالگرہ");
      assertThat(r.amount()).isEqualTo(2);
      assertThat(r.before()).isTrue();
    });
    assertThat(hints("the day before yesterday").pendingEvents()).isEmpty();
    assertThat(hints("What did she buy two weeks before her birthday?").resolveEvents(p -> null).isEmpty()).isTrue();
  }

  @Test
  void seasons_areTheirMonths() {
    TimeHints summer = hints("Where did they go during the summer?");
    assertThat(summer.matches(day("2022-07-15"))).isTrue();
    assertThat(summer.matches(day("2022-10-15"))).isFalse();
    assertThat(hints("the summer of 2022").matches(day("2023-07-15"))).isFalse();
    assertThat(hints("the summer of 2022").matches(day("2022-07-15"))).isTrue();
  }
}
