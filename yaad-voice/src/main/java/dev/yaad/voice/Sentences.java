package dev.yaad.voice;

import java.util.Locale;
import java.util.Set;

/** Text rules of the pipeline: where sentences end, which words are backchannels, when a turn sounds unfinished. */
final class Sentences {
  private Sentences() {}

  /** Words that acknowledge without taking the turn, English and Urdu (Latin and Arabic script). */
  static final Set<String> BACKCHANNELS = Set.of(
      "yeah", "yes", "yep", "yup", "ok", "okay", "hmm", "hm", "mm", "mhm", "mmhmm", "uh-huh", "uh", "um", "ah", "oh",
      "right", "sure", "alright", "huh", "wow", "nice", "cool",
      "haan", "han", "haa", "ji", "jee", "acha", "achha", "accha", "theek", "thik", "hai", "bilkul",
      "ہاں", "جی", "اچھا", "ٹھیک", "ہے", "بالکل", "ہم");

  /**
   * Words that leave a sentence hanging when they come last ("I went to the", "and"): a
   * transcript ending in one waits up to the maximum endpointing delay.
   */
  private static final Set<String> HANGING = Set.of(
      "and", "but", "or", "so", "because", "the", "a", "an", "to", "of", "in", "on", "at", "for", "with", "my",
      "your", "i", "if", "that", "when", "then", "is", "was", "um", "uh",
      "aur", "lekin", "magar", "ke", "ki", "ka", "ko", "mein", "se", "keh", "kyunke",
      "اور", "لیکن", "مگر", "کے", "کی", "کا", "کو", "میں", "سے", "کہ", "کیونکہ");

  /** Whether {@code c} ends a sentence: {@code . ! ?}, Urdu {@code ۔ ؟}, or a newline. */
  static boolean isEnd(char c) {
    return c == '.' || c == '!' || c == '?' || c == '۔' || c == '؟' || c == '\n';
  }

  /**
   * Where the first sentence in {@code text} from {@code from} ends (exclusive), or -1: at an end
   * mark followed by white space (so that "3.5" and "e.g." inside a word do not split), or at a
   * newline.
   */
  static int nextEnd(CharSequence text, int from) {
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n') {
        return i + 1;
      }
      if (isEnd(c) && i + 1 < text.length() && Character.isWhitespace(text.charAt(i + 1))) {
        return i + 1;
      }
    }
    return -1;
  }

  /**
   * Where the first clause of {@code text} ends (exclusive), or -1: at a comma, semicolon or colon
   * ({@code , ; :}, Urdu {@code ،}) followed by white space, with at least {@code minWords} words
   * before it. A reply's first clause is spoken before its first sentence is complete, so the
   * first audio does not wait for the LLM to stream a whole long sentence.
   */
  static int firstClauseEnd(CharSequence text, int minWords) {
    int words = 0;
    boolean inWord = false;
    for (int i = 0; i + 1 < text.length(); i++) {
      char c = text.charAt(i);
      boolean space = Character.isWhitespace(c);
      if (!space && !inWord) {
        words++;
      }
      inWord = !space;
      if ((c == ',' || c == ';' || c == ':' || c == '،') && Character.isWhitespace(text.charAt(i + 1))) {
        return words >= minWords ? i + 1 : -1;
      }
    }
    return -1;
  }

  /** Words in {@code text} that are not backchannels. */
  static int contentWords(String text) {
    int n = 0;
    for (String w : words(text)) {
      if (!BACKCHANNELS.contains(w)) {
        n++;
      }
    }
    return n;
  }

  /**
   * Whether a transcript sounds finished: it ends with a sentence mark (from an engine that writes
   * them), or (from one that does not) its last word does not leave it hanging.
   */
  static boolean soundsFinished(String text, boolean punctuated) {
    String t = text.strip();
    if (t.isEmpty()) {
      return true;
    }
    if (punctuated && !isEnd(t.charAt(t.length() - 1))) {
      return false;
    }
    String[] w = words(t);
    return w.length == 0 || !HANGING.contains(w[w.length - 1]);
  }

  static String[] words(String text) {
    String t = text.toLowerCase(Locale.ROOT).replaceAll("[\\p{Punct}۔؟،&&[^'-]]", " ").strip();
    return t.isEmpty() ? new String[0] : t.split("\\s+");
  }
}
