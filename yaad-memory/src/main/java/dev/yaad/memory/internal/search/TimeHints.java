package dev.yaad.memory.internal.search;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.BitSet;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The months and years a query names ("what did I do in June?", "جون میں", "in 2023"), so
 * that memories from then can be preferred. English month names (full or three letters)
 * and Urdu ones are recognised; a year is four digits from 1900 to 2099. A month without a
 * year matches that month of any year.
 */
final class TimeHints {
  private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");
  private static final Map<String, Integer> MONTHS = Map.ofEntries(
      Map.entry("january", 1), Map.entry("jan", 1), Map.entry("february", 2), Map.entry("feb", 2),
      Map.entry("march", 3), Map.entry("april", 4), Map.entry("apr", 4), Map.entry("june", 6),
      Map.entry("july", 7), Map.entry("august", 8), Map.entry("aug", 8), Map.entry("september", 9),
      Map.entry("sep", 9), Map.entry("sept", 9), Map.entry("october", 10), Map.entry("oct", 10),
      Map.entry("november", 11), Map.entry("nov", 11), Map.entry("december", 12), Map.entry("dec", 12),
      // "May", "mar" and "jun" are left out in English: too often ordinary words. Abbreviations
      // and "March" count only capitalised; "May" only before a day or a year (below).
      Map.entry("جنوری", 1), Map.entry("فروری", 2), Map.entry("مارچ", 3), Map.entry("اپریل", 4),
      Map.entry("مئی", 5), Map.entry("جون", 6), Map.entry("جولائی", 7), Map.entry("اگست", 8),
      Map.entry("ستمبر", 9), Map.entry("اکتوبر", 10), Map.entry("نومبر", 11), Map.entry("دسمبر", 12));

  static final TimeHints NONE = new TimeHints(new BitSet(), new BitSet());

  private final BitSet months; // 1-12
  private final BitSet years;  // 1900-2099 as offsets from 1900

  private TimeHints(BitSet months, BitSet years) {
    this.months = months;
    this.years = years;
  }

  static TimeHints of(String query) {
    BitSet months = new BitSet();
    BitSet years = new BitSet();
    Matcher m = WORD.matcher(query);
    while (m.find()) {
      String word = m.group();
      Integer month = MONTHS.get(word.toLowerCase(Locale.ROOT));
      if (month != null && (!isLatin(word) || Character.isUpperCase(word.charAt(0))
          || (word.length() > 4 && !word.equalsIgnoreCase("march")))) {
        months.set(month);
      } else if (word.length() == 4 && (word.startsWith("19") || word.startsWith("20")) && word.chars().allMatch(Character::isDigit)) {
        years.set(Integer.parseInt(word) - 1900);
      }
    }
    // "May" with a capital, right before a year or day, is the month ("May 2023").
    if (Pattern.compile("\\bMay\\s+(\\d{1,2}\\b|(19|20)\\d{2}\\b)").matcher(query).find()) {
      months.set(5);
    }
    return months.isEmpty() && years.isEmpty() ? NONE : new TimeHints(months, years);
  }

  boolean isEmpty() {
    return months.isEmpty() && years.isEmpty();
  }

  /** Whether the time (epoch milliseconds, UTC) is in a named month (and named year, if any). */
  boolean matches(long epochMillis) {
    ZonedDateTime t = Instant.ofEpochMilli(epochMillis).atZone(ZoneOffset.UTC);
    return (months.isEmpty() || months.get(t.getMonthValue()))
        && (years.isEmpty() || years.get(t.getYear() - 1900));
  }

  private static boolean isLatin(String word) {
    return word.chars().allMatch(c -> c < 0x250);
  }
}
