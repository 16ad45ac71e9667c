package dev.yaad.memory.internal.search;

import dev.yaad.memory.search.ForgetRule;
import dev.yaad.memory.search.Match;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which of a user's memories a description names well enough to forget; the rule is
 * {@link ForgetRule}'s. The words that only make the request ("forget my...", "میری ... بھول
 * جاؤ") are dropped first, with the question words, so that they match nothing.
 */
final class ForgetMatcher {
  /** At most this many close matches are returned: enough to ask which one, not a listing. */
  static final int MAX_CLOSE = 10;
  private static final Set<String> REQUEST_TERMS = new HashSet<>();

  static {
    String words = "i me my mine myself we us our you your he him his she her they them their user user's users "
        + "forget forgot forgotten delete remove erase remember memory memories about thing things something anything "
        + "please just also all any every like "
        + "میں میرا میری میرے مجھے مجھ ہم ہمارا ہماری ہمارے آپ تم تمہارا تمہاری وہ یہ ہے ہیں تھا تھی تھے ہوں ہو "
        + "کا کی کے کو نے سے پر اور بھی ایک بارے یاد بھول بھولو جاؤ جائیں جاو دو والا والی والے بات چیز";
    for (String word : words.split(" ")) {
      REQUEST_TERMS.addAll(TextAnalysis.DEFAULT.terms(word));
    }
  }

  private ForgetMatcher() {}

  /** The description's distinctive terms, each once, in order. */
  static List<String> distinctiveTerms(String description) {
    Set<String> terms = new LinkedHashSet<>(QuestionWords.drop(TextAnalysis.DEFAULT.terms(description)));
    terms.removeAll(REQUEST_TERMS);
    return List.copyOf(terms);
  }

  /**
   * @param vector the description's unit vector (this index's model)
   * @return no match; exactly one (the memory meant); or the close matches, best first (ask which)
   */
  static List<Match> matches(UserIndex index, String description, float[] vector, ForgetRule rule) {
    List<String> terms = distinctiveTerms(description);
    if (terms.isEmpty() || index.size() == 0) {
      return List.of();
    }
    int[] shared = index.sharedTerms(terms);
    List<Match> found = new ArrayList<>();
    for (int doc = 0; doc < index.size(); doc++) {
      double share = (double) shared[doc] / terms.size();
      double cosine = index.cosine(doc, vector);
      if (share >= rule.minWordShare() && cosine >= rule.minCosine()) {
        found.add(new Match(index.memories[doc], cosine, share));
      }
    }
    found.sort(Comparator.comparingDouble(Match::cosine).reversed());
    if (found.size() <= 1) {
      return found;
    }
    double best = found.getFirst().cosine();
    if (best - found.get(1).cosine() >= rule.margin()) {
      return List.of(found.getFirst());
    }
    return found.stream().filter(m -> best - m.cosine() < rule.margin()).limit(MAX_CLOSE).toList();
  }
}
