package dev.yaad.memory.search;

/**
 * When a description ("my goldfish", "میری بہن") matches a memory well enough to forget it on
 * the strength of the description alone (see {@code Memories#matchToForget}). A memory matches
 * when both kinds of evidence agree:
 *
 * <ul>
 *   <li><b>words</b>: at least {@code minWordShare} of the description's distinctive words
 *       occur in the memory, both read by the search's analysis (case, accents and Urdu letter
 *       variants folded, English stemmed), after dropping the words that only make the request
 *       (I, my, forget, remember, میں, میرا, ہے, question words...);
 *   <li><b>meaning</b>: the cosine of the two embeddings is at least {@code minCosine}.
 * </ul>
 *
 * Words alone would take "likes coffee" for "I like tea"; meaning alone is weak for languages
 * the embedding model was not trained on (with the default English model, unrelated Urdu
 * sentences reach a cosine of 0.4 to 0.8, while an unrelated English one stays near 0.15).
 * When several memories match and the best is not ahead of the next by {@code margin} in
 * cosine, they are close matches: nothing is forgotten and the caller is told which.
 *
 * @param minCosine    0 to 1; default {@value #DEFAULT_MIN_COSINE}
 * @param minWordShare (0, 1]; default {@value #DEFAULT_MIN_WORD_SHARE}
 * @param margin       0 to 1; default {@value #DEFAULT_MARGIN}
 */
public record ForgetRule(double minCosine, double minWordShare, double margin) {
  public static final double DEFAULT_MIN_COSINE = 0.35;
  public static final double DEFAULT_MIN_WORD_SHARE = 0.5;
  public static final double DEFAULT_MARGIN = 0.15;

  public ForgetRule {
    if (!(minCosine >= 0 && minCosine <= 1)) {
      throw new IllegalArgumentException("minCosine must be in [0, 1] (was " + minCosine + ")");
    }
    if (!(minWordShare > 0 && minWordShare <= 1)) {
      throw new IllegalArgumentException("minWordShare must be in (0, 1] (was " + minWordShare + ")");
    }
    if (!(margin >= 0 && margin <= 1)) {
      throw new IllegalArgumentException("margin must be in [0, 1] (was " + margin + ")");
    }
  }

  public static ForgetRule defaults() {
    return new ForgetRule(DEFAULT_MIN_COSINE, DEFAULT_MIN_WORD_SHARE, DEFAULT_MARGIN);
  }
}
