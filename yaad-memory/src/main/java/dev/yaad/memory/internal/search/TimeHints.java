package dev.yaad.memory.internal.search;

import java.text.Normalizer;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.Month;
import java.time.MonthDay;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The times a query names, resolved to spans of time that a memory's {@code occurredAt} can
 * fall in: "on 3 October 2023", "in June", "2023", "last Friday", "two weeks ago", "the week
 * before 9 June", "two weeks before her birthday", and the Urdu forms ("3 اکتوبر", "جون",
 * "پچھلے جمعہ", "دو ہفتے پہلے", "سالگرہ سے دو ہفتے پہلے").
 *
 * <p>What is recognised, and what it becomes:
 *
 * <ul>
 *   <li>A day ("3 October 2023", "October 3rd, 2023", "2023-10-03", "۳ اکتوبر ۲۰۲۳"): that
 *       day. A day without a year ("13 August") is that day of any year, like a birthday.
 *   <li>A month with a year ("March 2023") or a year ("2023"): that month or year. A month
 *       alone ("in June", "جون") or a season ("summer", "گرمیوں") is that month or those
 *       months of any year. English abbreviations and "March" count only capitalised, "May"
 *       only before a day or a year: otherwise they are ordinary words.
 *   <li>An expression relative to another day ("the week before 9 June 2023", "two weeks
 *       before August 11, 2023", "the Friday before 15 July", "9 جون سے ایک ہفتہ پہلے"): from
 *       the event it names to that day, both included, since what happened then may have been
 *       remembered any time up to that day. "The week of 23 August" is that week.
 *   <li>An expression relative to the query's time ({@code now}): "yesterday", "last Friday",
 *       "last week", "last weekend", "last month", "last year", "this year", "last summer",
 *       "three days ago", "پچھلے جمعہ", "پچھلے ہفتے", "دو ہفتے پہلے", "کل": from the event it
 *       names to the end of the query's day. "Next week" and the like are that future span.
 *   <li>An expression relative to an event the query names ("two weeks before her birthday",
 *       "سالگرہ سے دو ہفتے پہلے"): kept {@linkplain #pendingEvents() pending}; the search
 *       {@linkplain #resolveEvents resolves} it against the time of the memory that best
 *       matches the event's words, then treats it as relative to that day.
 * </ul>
 *
 * A span also matches what happened up to one span's length after it ({@link #matches}):
 * things are told after they happen. Days, weeks (Monday first) and months are counted in
 * the query's time zone. Immutable.
 */
final class TimeHints {
  static final TimeHints NONE = new TimeHints(List.of(), new BitSet(), Set.of(), List.of(), ZoneId.of("UTC"));

  /** [start, end) in epoch milliseconds. */
  record Span(long start, long end) {}

  /**
   * "{amount} {unit} before/after {phrase}" where the phrase is not a date: the day it is
   * relative to is the time of a memory about the phrase.
   */
  record EventRelation(String phrase, int amount, String unit, boolean before) {}

  private final List<Span> spans;
  private final BitSet months;      // months of any year, 1-12
  private final Set<MonthDay> days; // days of any year
  private final List<EventRelation> pending;
  private final ZoneId zone;

  private TimeHints(List<Span> spans, BitSet months, Set<MonthDay> days, List<EventRelation> pending, ZoneId zone) {
    this.spans = spans;
    this.months = months;
    this.days = days;
    this.pending = pending;
    this.zone = zone;
  }

  // --- vocabulary -----------------------------------------------------------------------

  private static final Map<String, Integer> MONTHS = Map.ofEntries(
      Map.entry("january", 1), Map.entry("jan", 1), Map.entry("february", 2), Map.entry("feb", 2),
      Map.entry("march", 3), Map.entry("mar", 3), Map.entry("april", 4), Map.entry("apr", 4), Map.entry("may", 5),
      Map.entry("june", 6), Map.entry("jun", 6), Map.entry("july", 7), Map.entry("jul", 7),
      Map.entry("august", 8), Map.entry("aug", 8), Map.entry("september", 9), Map.entry("sep", 9),
      Map.entry("sept", 9), Map.entry("october", 10), Map.entry("oct", 10), Map.entry("november", 11),
      Map.entry("nov", 11), Map.entry("december", 12), Map.entry("dec", 12),
      Map.entry("جنوری", 1), Map.entry("فروری", 2), Map.entry("مارچ", 3), Map.entry("اپریل", 4),
      Map.entry("مئی", 5), Map.entry("جون", 6), Map.entry("جولائی", 7), Map.entry("اگست", 8),
      Map.entry("ستمبر", 9), Map.entry("اکتوبر", 10), Map.entry("نومبر", 11), Map.entry("دسمبر", 12));
  /** Month words that are ordinary English words too: months only capitalised, or beside a number. */
  private static final Set<String> AMBIGUOUS_MONTHS = Set.of("may", "march", "mar", "jan", "feb", "apr", "jun", "jul",
      "aug", "sep", "sept", "oct", "nov", "dec");
  private static final Map<String, DayOfWeek> WEEKDAYS = Map.ofEntries(
      Map.entry("monday", DayOfWeek.MONDAY), Map.entry("tuesday", DayOfWeek.TUESDAY),
      Map.entry("wednesday", DayOfWeek.WEDNESDAY), Map.entry("thursday", DayOfWeek.THURSDAY),
      Map.entry("friday", DayOfWeek.FRIDAY), Map.entry("saturday", DayOfWeek.SATURDAY),
      Map.entry("sunday", DayOfWeek.SUNDAY),
      Map.entry("پیر", DayOfWeek.MONDAY), Map.entry("سوموار", DayOfWeek.MONDAY), Map.entry("منگل", DayOfWeek.TUESDAY),
      Map.entry("بدھ", DayOfWeek.WEDNESDAY), Map.entry("جمعرات", DayOfWeek.THURSDAY),
      Map.entry("جمعہ", DayOfWeek.FRIDAY), Map.entry("جمعے", DayOfWeek.FRIDAY), Map.entry("اتوار", DayOfWeek.SUNDAY));
  /** Northern seasons (Pakistan, most users) as months. */
  private static final Map<String, int[]> SEASONS = Map.of(
      "spring", new int[] {3, 4, 5}, "summer", new int[] {6, 7, 8}, "autumn", new int[] {9, 10, 11},
      "winter", new int[] {12, 1, 2},
      "بہار", new int[] {3, 4, 5}, "گرمی", new int[] {6, 7, 8}, "گرمیوں", new int[] {6, 7, 8},
      "خزاں", new int[] {9, 10, 11}, "سردی", new int[] {12, 1, 2}, "سردیوں", new int[] {12, 1, 2});
  private static final Map<String, Integer> NUMBERS = Map.ofEntries(
      Map.entry("a", 1), Map.entry("an", 1), Map.entry("one", 1), Map.entry("two", 2), Map.entry("three", 3),
      Map.entry("four", 4), Map.entry("five", 5), Map.entry("six", 6), Map.entry("seven", 7), Map.entry("eight", 8),
      Map.entry("nine", 9), Map.entry("ten", 10), Map.entry("eleven", 11), Map.entry("twelve", 12),
      Map.entry("couple", 2), Map.entry("few", 3), Map.entry("several", 3),
      Map.entry("ایک", 1), Map.entry("دو", 2), Map.entry("تین", 3), Map.entry("چار", 4), Map.entry("پانچ", 5),
      Map.entry("چھ", 6), Map.entry("سات", 7), Map.entry("آٹھ", 8), Map.entry("نو", 9), Map.entry("دس", 10),
      Map.entry("گیارہ", 11), Map.entry("بارہ", 12), Map.entry("چند", 3));
  /** Units of relative expressions, English and Urdu, singular and plural, to day/week/weekend/month/year. */
  private static final Map<String, String> UNITS = Map.ofEntries(
      Map.entry("day", "day"), Map.entry("days", "day"), Map.entry("week", "week"), Map.entry("weeks", "week"),
      Map.entry("weekend", "weekend"), Map.entry("weekends", "weekend"), Map.entry("month", "month"),
      Map.entry("months", "month"), Map.entry("year", "year"), Map.entry("years", "year"),
      Map.entry("دن", "day"), Map.entry("روز", "day"), Map.entry("ہفتے", "week"), Map.entry("ہفتہ", "week"),
      Map.entry("ہفتوں", "week"), Map.entry("مہینے", "month"), Map.entry("مہینہ", "month"),
      Map.entry("مہینوں", "month"), Map.entry("ماہ", "month"), Map.entry("سال", "year"), Map.entry("برس", "year"),
      Map.entry("سالوں", "year"));

  private static final String MONTH = "(january|february|march|april|may|june|july|august|september|october|november"
      + "|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec|جنوری|فروری|مارچ|اپریل|مئی|جون|جولائی|اگست|ستمبر"
      + "|اکتوبر|نومبر|دسمبر)";
  private static final String YEAR = "((?:19|20)\\d{2})";
  private static final String WORD_END = "(?![\\p{L}\\p{N}])";
  private static final String WORD_START = "(?<![\\p{L}\\p{N}])";
  private static final String NUM = "(\\d{1,2}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
      + "|(?:a\\s+)?couple(?:\\s+of)?|(?:a\\s+)?few|several|ایک|دو|تین|چار|پانچ|چھ|سات|آٹھ|نو|دس|گیارہ|بارہ|چند)";
  private static final String WEEKDAY = "(monday|tuesday|wednesday|thursday|friday|saturday|sunday)";
  private static final String UNIT_EN = "(days?|weeks?|weekends?|months?|years?|" + WEEKDAY.substring(1);
  private static final String UNIT_UR = "(دن|روز|ہفتے|ہفتہ|ہفتوں|مہینے|مہینہ|مہینوں|ماہ|سال|برس|سالوں)";
  private static final int F = Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;

  private static final Pattern ISO_DATE = Pattern.compile(WORD_START + YEAR + "-(\\d{1,2})-(\\d{1,2})" + WORD_END);
  private static final Pattern DAY_MONTH = Pattern.compile(
      WORD_START + "(\\d{1,2})(?:st|nd|rd|th)?(?:\\s+of)?\\s+" + MONTH + "\\.?" + WORD_END + "(?:,?\\s*" + YEAR + WORD_END + ")?", F);
  private static final Pattern MONTH_DAY = Pattern.compile(
      WORD_START + MONTH + "\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?" + WORD_END + "(?:,?\\s*" + YEAR + WORD_END + ")?", F);
  private static final Pattern MONTH_YEAR = Pattern.compile(WORD_START + MONTH + "\\.?,?\\s+(?:of\\s+)?" + YEAR + WORD_END, F);
  private static final Pattern SEASON_YEAR = Pattern.compile(
      WORD_START + "(spring|summer|autumn|winter)\\s+(?:of\\s+)?" + YEAR + WORD_END, F);
  private static final Pattern LONE_YEAR = Pattern.compile(WORD_START + YEAR + WORD_END);
  private static final Pattern LONE_WORD = Pattern.compile("[\\p{L}]+");
  /** Text just before a date, relating an event to it: "the week before ", "two weeks after ", "سے" handled apart. */
  private static final Pattern RELATION_BEFORE_DATE = Pattern.compile(
      "(?:(?:the|last|first)\\s+)?(?:" + NUM + "\\s+)?" + UNIT_EN + "\\s+(before|after|prior\\s+to|of)\\s+(?:on\\s+)?$", F);
  /** Urdu: "{date} سے {n} {unit} پہلے/بعد" (the date is before the relation). */
  private static final Pattern URDU_RELATION_AFTER_DATE = Pattern.compile(
      "^\\s*(?:کے\\s+)?سے\\s+(?:" + NUM + "\\s+)?" + UNIT_UR + "\\s+(پہلے|قبل|بعد)" + WORD_END);
  private static final Pattern EVENT_RELATION = Pattern.compile(
      WORD_START + "(?:(?:the|a)\\s+)?(?:" + NUM + "\\s+)?" + UNIT_EN + "\\s+(before|after|prior\\s+to)\\s+"
          + "(?!(?:the\\s+day\\s+before\\s+)?(?:yesterday|today)" + WORD_END + ")((?:[\\p{L}\\p{N}']+\\s*){1,4})", F);
  private static final Pattern URDU_EVENT_RELATION = Pattern.compile(
      "((?:[\\p{L}\\p{N}]+\\s+){1,3})(?:کے\\s+)?سے\\s+(?:" + NUM + "\\s+)?" + UNIT_UR + "\\s+(پہلے|قبل|بعد)" + WORD_END);
  private static final Pattern AGO = Pattern.compile(
      WORD_START + NUM + "\\s+(days?|weeks?|months?|years?)\\s+(ago|back|earlier)" + WORD_END, F);
  private static final Pattern URDU_AGO = Pattern.compile(
      WORD_START + "(?:" + NUM + "\\s+)?" + UNIT_UR + "\\s+(پہلے|قبل)" + WORD_END);
  private static final Pattern LAST_THIS_NEXT = Pattern.compile(
      WORD_START + "(last|this|past|previous|next|coming)\\s+(week|weekend|month|year|spring|summer|autumn|winter|"
          + WEEKDAY.substring(1) + WORD_END, F);
  private static final Pattern URDU_LAST_THIS_NEXT = Pattern.compile(
      WORD_START + "(پچھلے|پچھلی|پچھلا|گزشتہ|گذشتہ|اس|اگلے|اگلی|اگلا|آئندہ)\\s+(ہفتے|ہفتہ|مہینے|مہینہ|ماہ|سال|برس"
          + "|پیر|سوموار|منگل|بدھ|جمعرات|جمعہ|جمعے|اتوار)" + WORD_END);
  private static final Pattern LONE_WEEKDAY = Pattern.compile(WORD_START + "(?:on\\s+)?" + WEEKDAY + WORD_END, F);
  private static final Pattern URDU_LONE_WEEKDAY = Pattern.compile(
      WORD_START + "(پیر|سوموار|منگل|بدھ|جمعرات|جمعہ|جمعے|اتوار|ہفتے|ہفتہ)(?=\\s+(?:کو|کے\\s+دن))");
  private static final Pattern YESTERDAY = Pattern.compile(
      WORD_START + "((?:the\\s+)?day\\s+before\\s+yesterday|yesterday|today|tonight|this\\s+morning|گزشتہ\\s+روز|کل|آج|پرسوں)"
          + WORD_END, F);

  // --- parsing --------------------------------------------------------------------------

  /** The times named in {@code query}, relative ones resolved against {@code now} in its zone. */
  static TimeHints of(String query, ZonedDateTime now) {
    return new Parser(normalise(query), now).parse();
  }

  /** For tests and callers without a clock: relative expressions resolved against the current time in UTC. */
  static TimeHints of(String query) {
    return of(query, ZonedDateTime.now(ZoneId.of("UTC")));
  }

  private static String normalise(String query) {
    String s = Normalizer.normalize(query, Normalizer.Form.NFKC);
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= '\u06F0' && c <= '\u06F9') {
        c = (char) ('0' + c - '\u06F0'); // Urdu digits
      } else if (c >= '\u0660' && c <= '\u0669') {
        c = (char) ('0' + c - '\u0660'); // Arabic-Indic digits
      } else if (c == '\u0643') {
        c = '\u06A9'; // Arabic kaf → keheh
      } else if (c == '\u064A' || c == '\u0649') {
        c = '\u06CC'; // Arabic yeh, alef maksura → Farsi yeh
      } else if (c == '\u0647' || c == '\u0629') {
        c = '\u06C1'; // Arabic heh, teh marbuta → heh goal
      } else if ((c >= '\u064B' && c <= '\u065F') || c == '\u0670' || c == '\u0640') {
        continue; // diacritics, tatweel
      } else if (c == '\u2019') {
        c = '\'';
      }
      b.append(c);
    }
    return b.toString();
  }

  private static final class Parser {
    final String text;
    final String lower;
    final ZonedDateTime now;
    final ZoneId zone;
    final LocalDate today;
    final boolean[] used;
    final List<Span> spans = new ArrayList<>();
    final BitSet months = new BitSet();
    final Set<MonthDay> days = new HashSet<>();
    final List<EventRelation> pending = new ArrayList<>();

    Parser(String text, ZonedDateTime now) {
      this.text = text;
      this.lower = text.toLowerCase(Locale.ROOT);
      this.now = now;
      this.zone = now.getZone();
      this.today = now.toLocalDate();
      this.used = new boolean[text.length()];
    }

    TimeHints parse() {
      dates();
      anchoredOnNow();
      if (spans.isEmpty() && months.isEmpty() && days.isEmpty() && pending.isEmpty()) {
        return NONE;
      }
      return new TimeHints(List.copyOf(spans), months, Set.copyOf(days), List.copyOf(pending), zone);
    }

    /** Days, months, years, and expressions relative to them or to an event. */
    private void dates() {
      Matcher m = ISO_DATE.matcher(text);
      while (m.find()) {
        LocalDate d = date(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
        if (d != null) {
          day(m.start(), m.end(), d, null);
        }
      }
      m = DAY_MONTH.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          dayMention(m, Integer.parseInt(m.group(1)), MONTHS.get(m.group(2).toLowerCase(Locale.ROOT)), m.group(3));
        }
      }
      m = MONTH_DAY.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end()) && monthWord(m.group(1), true)) {
          dayMention(m, Integer.parseInt(m.group(2)), MONTHS.get(m.group(1).toLowerCase(Locale.ROOT)), m.group(3));
        }
      }
      m = MONTH_YEAR.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end()) && monthWord(m.group(1), true)) {
          YearMonth ym = YearMonth.of(Integer.parseInt(m.group(2)), MONTHS.get(m.group(1).toLowerCase(Locale.ROOT)));
          span(m.start(), m.end(), ym.atDay(1), ym.plusMonths(1).atDay(1));
        }
      }
      m = SEASON_YEAR.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          int[] ms = SEASONS.get(m.group(1).toLowerCase(Locale.ROOT));
          int year = Integer.parseInt(m.group(2));
          LocalDate start = LocalDate.of(year, ms[0], 1);
          span(m.start(), m.end(), start, start.plusMonths(3));
        }
      }
      m = LONE_YEAR.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          int year = Integer.parseInt(m.group(1));
          span(m.start(), m.end(), LocalDate.of(year, 1, 1), LocalDate.of(year + 1, 1, 1));
        }
      }
      m = EVENT_RELATION.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end()) && unit(m.group(2)) != null) {
          String phrase = m.group(4).strip();
          if (!phrase.isEmpty()) {
            pending.add(new EventRelation(phrase, amount(m.group(1)), unit(m.group(2)), !m.group(3).equalsIgnoreCase("after")));
            mark(m.start(), m.end());
          }
        }
      }
      m = URDU_EVENT_RELATION.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          pending.add(new EventRelation(m.group(1).strip(), amount(m.group(2)), unit(m.group(3)), !m.group(4).equals("بعد")));
          mark(m.start(), m.end());
        }
      }
      m = LONE_WORD.matcher(text);
      while (m.find()) {
        if (!free(m.start(), m.end())) {
          continue;
        }
        String word = m.group();
        String key = word.toLowerCase(Locale.ROOT);
        Integer month = MONTHS.get(key);
        if (month != null && monthWord(word, false)) {
          months.set(month);
        } else if (SEASONS.containsKey(key) && !isAfter(m.start(), "last|this|past|previous|next|coming")) {
          for (int s : SEASONS.get(key)) {
            months.set(s);
          }
        }
      }
    }

    /** A day mention, with the relation before it (English) or after it (Urdu) if there is one. */
    private void dayMention(Matcher m, int dayOfMonth, int month, String year) {
      if (year == null) {
        if (dayOfMonth >= 1 && dayOfMonth <= Month.of(month).maxLength()) {
          // A day without a year: any year, unless a relation needs one day (then the latest one up to now).
          LocalDate d = latest(MonthDay.of(month, dayOfMonth));
          day(m.start(), m.end(), d, MonthDay.of(month, dayOfMonth));
        }
        return;
      }
      LocalDate d = date(Integer.parseInt(year), month, dayOfMonth);
      if (d != null) {
        day(m.start(), m.end(), d, null);
      }
    }

    private void day(int start, int end, LocalDate d, MonthDay anyYear) {
      Matcher before = RELATION_BEFORE_DATE.matcher(lower.substring(Math.max(0, start - 48), start));
      if (before.find() && unit(before.group(2)) != null) {
        int from = Math.max(0, start - 48) + before.start();
        String relation = before.group(3).toLowerCase(Locale.ROOT);
        relative(from, end, d, amount(before.group(1)), unit(before.group(2)), relation);
        return;
      }
      Matcher after = URDU_RELATION_AFTER_DATE.matcher(text.substring(end));
      if (after.find()) {
        relative(start, end + after.end(), d, amount(after.group(1)), unit(after.group(2)),
            after.group(3).equals("بعد") ? "after" : "before");
        return;
      }
      if (anyYear != null) {
        days.add(anyYear);
        mark(start, end);
      } else {
        span(start, end, d, d.plusDays(1));
      }
    }

    /** "{amount} {unit} before/after/of {day}": see {@link TimeHints#window}. */
    private void relative(int start, int end, LocalDate anchor, int amount, String unit, String relation) {
      if (relation.equals("of")) {
        LocalDate monday = anchor.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
        switch (unit) {
          case "week" -> span(start, end, monday, monday.plusDays(7));
          case "weekend" -> span(start, end, monday.plusDays(5), monday.plusDays(7));
          default -> span(start, end, anchor, anchor.plusDays(1));
        }
        return;
      }
      LocalDate[] w = window(anchor, amount, unit, !relation.equals("after"));
      span(start, end, w[0], w[1]);
    }

    /** Expressions relative to the query's time: from the event to the end of today. */
    private void anchoredOnNow() {
      LocalDate end = today.plusDays(1);
      Matcher m = YESTERDAY.matcher(text);
      while (m.find()) {
        if (!free(m.start(), m.end())) {
          continue;
        }
        String w = m.group(1).toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
        switch (w) {
          case "yesterday", "گزشتہ روز" -> span(m.start(), m.end(), today.minusDays(1), end);
          // کل is both yesterday and tomorrow, پرسوں two days either way: the words around tell, we do not.
          case "کل" -> span(m.start(), m.end(), today.minusDays(1), today.plusDays(2));
          case "پرسوں" -> span(m.start(), m.end(), today.minusDays(2), today.plusDays(3));
          case "today", "tonight", "this morning", "آج" -> span(m.start(), m.end(), today, end);
          default -> span(m.start(), m.end(), today.minusDays(2), end); // the day before yesterday
        }
      }
      m = AGO.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          span(m.start(), m.end(), shift(today, amount(m.group(1)), unit(m.group(2)), true), end);
        }
      }
      m = URDU_AGO.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          span(m.start(), m.end(), shift(today, amount(m.group(1)), unit(m.group(2)), true), end);
        }
      }
      m = LAST_THIS_NEXT.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          String which = m.group(1).toLowerCase(Locale.ROOT);
          lastThisNext(m.start(), m.end(), which.equals("previous") || which.equals("past") ? "last"
              : which.equals("coming") ? "next" : which, m.group(2).toLowerCase(Locale.ROOT));
        }
      }
      m = URDU_LAST_THIS_NEXT.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          String which = switch (m.group(1)) {
            case "اس" -> "this";
            case "اگلے", "اگلی", "اگلا", "آئندہ" -> "next";
            default -> "last";
          };
          DayOfWeek weekday = WEEKDAYS.get(m.group(2));
          lastThisNext(m.start(), m.end(), which, weekday != null ? weekday.name().toLowerCase(Locale.ROOT) : unit(m.group(2)));
        }
      }
      m = LONE_WEEKDAY.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          LocalDate d = today.with(TemporalAdjusters.previousOrSame(DayOfWeek.valueOf(m.group(1).toUpperCase(Locale.ROOT))));
          span(m.start(), m.end(), d, end);
        }
      }
      m = URDU_LONE_WEEKDAY.matcher(text);
      while (m.find()) {
        if (free(m.start(), m.end())) {
          DayOfWeek weekday = WEEKDAYS.getOrDefault(m.group(1), DayOfWeek.SATURDAY); // ہفتہ کو: on Saturday
          span(m.start(), m.end(), today.with(TemporalAdjusters.previousOrSame(weekday)), end);
        }
      }
    }

    private void lastThisNext(int start, int end, String which, String what) {
      LocalDate tomorrow = today.plusDays(1);
      LocalDate monday = today.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
      int[] season = SEASONS.get(what);
      if (season != null) {
        // The latest such season that has begun (this) or ended (last) by now; next: the coming one.
        LocalDate start0 = LocalDate.of(today.getYear(), season[0], 1);
        if (start0.isAfter(today)) {
          start0 = start0.minusYears(1);
        }
        LocalDate s = switch (which) {
          case "next" -> start0.plusYears(1);
          case "last" -> start0.plusMonths(3).isAfter(today) ? start0.minusYears(1) : start0;
          default -> start0;
        };
        span(start, end, s, which.equals("next") ? s.plusMonths(3) : tomorrow);
        return;
      }
      if (!List.of("day", "week", "weekend", "month", "year").contains(what)) {
        DayOfWeek weekday = DayOfWeek.valueOf(what.toUpperCase(Locale.ROOT));
        LocalDate d = switch (which) {
          case "last" -> today.with(TemporalAdjusters.previous(weekday));
          case "next" -> today.with(TemporalAdjusters.next(weekday));
          default -> monday.with(TemporalAdjusters.nextOrSame(weekday)); // this Friday: of this week
        };
        span(start, end, d, which.equals("last") ? tomorrow : d.plusDays(1));
        return;
      }
      LocalDate from;
      LocalDate to;
      switch (what) {
        case "week" -> {
          from = which.equals("last") ? monday.minusWeeks(1) : which.equals("next") ? monday.plusWeeks(1) : monday;
          to = from.plusWeeks(1);
        }
        case "weekend" -> {
          LocalDate saturday = monday.plusDays(5);
          from = which.equals("last") ? (saturday.isBefore(today) ? saturday : saturday.minusWeeks(1))
              : which.equals("next") ? (saturday.isAfter(today) ? saturday : saturday.plusWeeks(1)) : saturday;
          to = from.plusDays(2);
        }
        case "month" -> {
          LocalDate first = today.withDayOfMonth(1);
          from = which.equals("last") ? first.minusMonths(1) : which.equals("next") ? first.plusMonths(1) : first;
          to = from.plusMonths(1);
        }
        default -> {
          LocalDate first = today.withDayOfYear(1);
          from = which.equals("last") ? first.minusYears(1) : which.equals("next") ? first.plusYears(1) : first;
          to = from.plusYears(1);
        }
      }
      span(start, end, from, which.equals("next") ? to : tomorrow);
    }

    /** The latest date on or before today with that month and day. */
    private LocalDate latest(MonthDay md) {
      int year = today.getYear();
      while (!md.isValidYear(year) || md.atYear(year).isAfter(today)) {
        year--;
      }
      return md.atYear(year);
    }

    /** Whether a month word is a month here: Urdu always; English words that are ordinary words only capitalised. */
    private boolean monthWord(String word, boolean besideNumber) {
      String key = word.toLowerCase(Locale.ROOT);
      if (!AMBIGUOUS_MONTHS.contains(key)) {
        return true;
      }
      boolean capitalised = Character.isUpperCase(word.charAt(0));
      return key.equals("may") ? capitalised && besideNumber : capitalised || besideNumber;
    }

    private boolean isAfter(int start, String words) {
      return Pattern.compile("(?:" + words + ")\\s+$", F).matcher(lower.substring(Math.max(0, start - 12), start)).find();
    }

    private void span(int start, int end, LocalDate from, LocalDate to) {
      spans.add(new Span(from.atStartOfDay(zone).toInstant().toEpochMilli(), to.atStartOfDay(zone).toInstant().toEpochMilli()));
      mark(start, end);
    }

    private boolean free(int start, int end) {
      for (int i = start; i < end; i++) {
        if (used[i]) {
          return false;
        }
      }
      return true;
    }

    private void mark(int start, int end) {
      for (int i = start; i < end; i++) {
        used[i] = true;
      }
    }
  }

  private static LocalDate date(int year, int month, int day) {
    try {
      return LocalDate.of(year, month, day);
    } catch (DateTimeException e) {
      return null;
    }
  }

  private static int amount(String word) {
    if (word == null) {
      return 1;
    }
    String w = word.toLowerCase(Locale.ROOT).replaceAll("^a\\s+|\\s+of$", "").strip();
    if (w.chars().allMatch(Character::isDigit)) {
      return Integer.parseInt(w);
    }
    return NUMBERS.getOrDefault(w, 1);
  }

  /** day, week, weekend, month or year; a weekday name as itself in lower case; null when neither. */
  private static String unit(String word) {
    String w = word.toLowerCase(Locale.ROOT);
    String unit = UNITS.get(w);
    if (unit != null) {
      return unit;
    }
    return WEEKDAYS.containsKey(w) ? w : null;
  }

  /**
   * The days [from, to) between an event {@code amount} units before (or after) {@code anchor}
   * and the anchor, both included: what happened then may have been remembered any time up to
   * the anchor (before), or is remembered from the anchor on (after).
   */
  private static LocalDate[] window(LocalDate anchor, int amount, String unit, boolean before) {
    LocalDate event = shift(anchor, amount, unit, before);
    return before
        ? new LocalDate[] {event, anchor.plusDays(1)}
        : new LocalDate[] {anchor, event.plusDays(unit.equals("weekend") ? 2 : 1)};
  }

  /** The day {@code amount} units before (or after) {@code day}; for a weekday, that many of them. */
  private static LocalDate shift(LocalDate day, int amount, String unit, boolean before) {
    int sign = before ? -1 : 1;
    return switch (unit) {
      case "day" -> day.plusDays(sign * (long) amount);
      case "week" -> day.plusWeeks(sign * (long) amount);
      case "month" -> day.plusMonths(sign * (long) amount);
      case "year" -> day.plusYears(sign * (long) amount);
      case "weekend" -> before
          ? day.with(TemporalAdjusters.previous(DayOfWeek.SATURDAY)).minusWeeks(amount - 1L)
          : day.with(TemporalAdjusters.next(DayOfWeek.SATURDAY)).plusWeeks(amount - 1L);
      default -> {
        DayOfWeek weekday = WEEKDAYS.get(unit);
        yield before
            ? day.with(TemporalAdjusters.previous(weekday)).minusWeeks(amount - 1L)
            : day.with(TemporalAdjusters.next(weekday)).plusWeeks(amount - 1L);
      }
    };
  }

  // --- use ------------------------------------------------------------------------------

  boolean isEmpty() {
    return spans.isEmpty() && months.isEmpty() && days.isEmpty() && pending.isEmpty();
  }

  List<Span> spans() {
    return spans;
  }

  /** Expressions relative to an event the query names; see {@link #resolveEvents}. */
  List<EventRelation> pendingEvents() {
    return pending;
  }

  /**
   * These hints with each pending event relation turned into a span around the time that
   * {@code timeOfEvent} gives for its phrase (or dropped when it gives {@code null}).
   */
  TimeHints resolveEvents(Function<String, Instant> timeOfEvent) {
    if (pending.isEmpty()) {
      return this;
    }
    List<Span> resolved = new ArrayList<>(spans);
    for (EventRelation r : pending) {
      Instant t = timeOfEvent.apply(r.phrase());
      if (t == null) {
        continue;
      }
      LocalDate[] w = window(t.atZone(zone).toLocalDate(), r.amount(), r.unit(), r.before());
      resolved.add(new Span(w[0].atStartOfDay(zone).toInstant().toEpochMilli(), w[1].atStartOfDay(zone).toInstant().toEpochMilli()));
    }
    return new TimeHints(List.copyOf(resolved), months, days, List.of(), zone);
  }

  /** Whether a time (epoch milliseconds) is in one of the named spans, months or days. */
  boolean matches(long epochMillis) {
    for (Span s : spans) {
      // Remembering lags what is remembered: a memory written up to one span's length after
      // it ("we went camping last week", said a week later) still counts.
      if (epochMillis >= s.start() && epochMillis < s.end() + (s.end() - s.start())) {
        return true;
      }
    }
    if (months.isEmpty() && days.isEmpty()) {
      return false;
    }
    ZonedDateTime t = Instant.ofEpochMilli(epochMillis).atZone(zone);
    return months.get(t.getMonthValue()) || days.contains(MonthDay.from(t));
  }
}
