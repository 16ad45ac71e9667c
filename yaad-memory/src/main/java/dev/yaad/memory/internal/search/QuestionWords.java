package dev.yaad.memory.internal.search;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The words that only make a query a question, English and Urdu: interrogatives ("what",
 * "when", "کیا", "کب", "کہاں") and the auxiliaries that go with them ("did", "does", "has").
 * They say nothing about what is sought, yet in the lexical ranking they match every memory
 * that itself asks something ("What did you paint?") rather than the one that answers. They
 * are dropped from queries only; memories keep every word. Held as index terms (after
 * {@link TextAnalysis}), so spelling variants the analysis folds are dropped too.
 */
final class QuestionWords {
  private static final Set<String> TERMS = new HashSet<>();

  static {
    String words = "what when where who whom whose which why how do does did has have had can could would should "
        + "کیا کب کہاں کدھر کون کونسا کونسی کونسے کیوں کیسے کیسا کیسی کتنا کتنی کتنے کس کسے کن";
    for (String word : words.split(" ")) {
      TERMS.addAll(TextAnalysis.DEFAULT.terms(word));
    }
  }

  private QuestionWords() {}

  /** The terms without question words, in order; a new list. */
  static List<String> drop(List<String> terms) {
    List<String> kept = new ArrayList<>(terms.size());
    for (String term : terms) {
      if (!TERMS.contains(term)) {
        kept.add(term);
      }
    }
    return kept;
  }
}
