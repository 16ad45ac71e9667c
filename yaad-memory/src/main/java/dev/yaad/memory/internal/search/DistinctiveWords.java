package dev.yaad.memory.internal.search;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The words that tell two facts of the same shape apart: names, numbers, places. Two texts
 * whose vectors are near (cosine at or above the duplicate threshold) are the same fact only
 * if they {@linkplain #agree agree} on these: "My sister Sana lives in Lahore" and "My sister
 * Sana lives in Karachi" are two facts (cosine 0.93 with all-MiniLM-L6-v2), as are "I have 2
 * cats" and "I have 3 cats" (0.96); "Sana, my sister, lives in Lahore" is the first again.
 *
 * <p>A word (an index term, after {@link TextAnalysis}: case folded, Urdu letter variants
 * joined, native digits as ASCII, stemmed) is distinctive when
 *
 * <ul>
 *   <li>it holds a digit, or is a number word ("two", "دو": counted as the digit, so "two cats"
 *       and "2 cats" agree);
 *   <li>it was written with a capital (a name, a place), unless it is one of the few words that
 *       open sentences ("I", "My", "She", "User");
 *   <li>it is in a script without case (Urdu), where a name cannot be told by its capital, and
 *       is not one of the common Urdu words (pronouns, postpositions, auxiliaries, "very").
 * </ul>
 *
 * <p>Two texts <b>disagree</b> when each has a distinctive word the other lacks altogether: a
 * name, number or place was replaced. A text that only adds one ("I have cats" → "I have 2
 * cats") agrees: it refines the fact, and the newer text is kept.
 */
public final class DistinctiveWords {
  private static final Set<String> SENTENCE_OPENERS = terms(
      "i my me mine we our us you your he him his she her they them their it its this that these those there here"
      + " user users also");
  private static final Set<String> COMMON_URDU = terms(
      "میں میرا میری میرے مجھے مجھ ہم ہمارا ہماری ہمارے ہمیں تم تمہارا تمہاری تمہارے آپ آپ کا کی کے کو سے نے پر تک"
      + " بھی اور یا کہ جو یہ وہ ان اس ان کا اس کا ایک بہت زیادہ کم ہی تو نہیں نہ ہے ہیں ہوں ہو تھا تھی تھے تھیں گا گی گے"
      + " رہا رہی رہے ہوا ہوئی ہوئے کر کرتا کرتی کرتے کرنا کیا کی والا والی والے اپنا اپنی اپنے پاس ساتھ لیے لئے"
      + " اب پھر ابھی صارف");
  private static final Map<String, String> NUMBER_WORDS = numberWords();

  private final Set<String> all;
  private final Set<String> distinctive;

  private DistinctiveWords(Set<String> all, Set<String> distinctive) {
    this.all = all;
    this.distinctive = distinctive;
  }

  /** The words of {@code text}: all of its index terms, and those of them that are distinctive. */
  public static DistinctiveWords of(String text) {
    Set<String> all = new HashSet<>();
    Set<String> distinctive = new HashSet<>();
    TextAnalysis.DEFAULT.tokens(text, (term, surface) -> {
      String number = NUMBER_WORDS.get(term);
      String word = number != null ? number : term;
      all.add(word);
      if (number != null || isDistinctive(word, surface)) {
        distinctive.add(word);
      }
    });
    return new DistinctiveWords(all, distinctive);
  }

  /** Whether two texts agree on their distinctive words (see the class comment). */
  public static boolean agree(String a, String b) {
    return of(a).agrees(of(b));
  }

  /** Whether this text and {@code other} agree on their distinctive words (see the class comment). */
  public boolean agrees(DistinctiveWords other) {
    return !lacksAnyOf(other.all, distinctive) || !lacksAnyOf(all, other.distinctive);
  }

  private static boolean lacksAnyOf(Set<String> words, Set<String> wanted) {
    for (String w : wanted) {
      if (!words.contains(w)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isDistinctive(String term, String surface) {
    boolean cased = false;
    for (int i = 0; i < surface.length(); ) {
      int c = surface.codePointAt(i);
      if (Character.isDigit(c)) {
        return true;
      }
      cased |= Character.isUpperCase(c) || Character.isLowerCase(c);
      i += Character.charCount(c);
    }
    if (!cased) {
      return !COMMON_URDU.contains(term) && surface.codePoints().anyMatch(Character::isLetter);
    }
    return Character.isUpperCase(surface.codePointAt(0)) && !SENTENCE_OPENERS.contains(term);
  }

  private static Map<String, String> numberWords() {
    String[] english = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve"};
    String[] urdu = {"صفر", "ایک", "دو", "تین", "چار", "پانچ", "چھ", "سات", "آٹھ", "نو", "دس", "گیارہ", "بارہ"};
    Map<String, String> map = new HashMap<>();
    for (int n = 0; n < english.length; n++) {
      for (String word : new String[] {english[n], urdu[n]}) {
        for (String term : TextAnalysis.DEFAULT.terms(word)) {
          map.put(term, Integer.toString(n));
        }
      }
    }
    return Map.copyOf(map);
  }

  private static Set<String> terms(String words) {
    Set<String> set = new HashSet<>();
    for (String word : words.split(" ")) {
      set.addAll(TextAnalysis.DEFAULT.terms(word));
    }
    return Set.copyOf(set);
  }
}
