package dev.yaad.memory.internal.search;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.ar.ArabicNormalizationFilter;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.fa.PersianNormalizationFilter;
import org.apache.lucene.analysis.icu.ICUFoldingFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;

/**
 * Turns memory text and queries into index terms with Lucene's analysis chain:
 *
 * <ol>
 *   <li>{@link StandardTokenizer}: Unicode word boundaries (UAX #29), which split Urdu
 *       (space-separated Arabic script) and English alike. Lucene's {@code ICUTokenizer} adds
 *       dictionary segmentation for scripts written without spaces (Thai, Khmer, Chinese)
 *       but costs two thirds more per memory, and analysis is most of an index load;
 *   <li>{@link EnglishPossessiveFilter}: {@code Caroline's} → {@code Caroline};
 *   <li>{@link ICUFoldingFilter}: case folding, accent and diacritic removal (so Urdu with
 *       or without aerab matches), native digits to ASCII, compatibility forms;
 *   <li>{@link ArabicNormalizationFilter} and {@link PersianNormalizationFilter}: the
 *       letter variants Urdu text is typed with (Arabic vs Farsi yeh and kaf, heh goal,
 *       alef forms, tatweel), so both keyboards' spellings meet;
 *   <li>English stop words, then the Porter stemmer ({@code hiking}, {@code hikes} →
 *       {@code hike}); both leave non-Latin words untouched.
 * </ol>
 *
 * The same chain runs on documents and queries. Thread-safe: Lucene's analyzer keeps one
 * reusable token stream per thread.
 */
final class TextAnalysis {
  static final TextAnalysis DEFAULT = new TextAnalysis();
  private static final Pattern SPACES = Pattern.compile("[\\s\\u200B-\\u200F\\u2060\\uFEFF]+");
  private static final Pattern EDGE_PUNCTUATION = Pattern.compile("^[\\p{P}\\p{S}\\s]+|[\\p{P}\\p{S}\\s]+$");

  private final Analyzer analyzer = new Analyzer() {
    @Override
    protected TokenStreamComponents createComponents(String fieldName) {
      Tokenizer tokenizer = new StandardTokenizer();
      TokenStream stream = new EnglishPossessiveFilter(tokenizer);
      stream = new ICUFoldingFilter(stream);
      stream = new ArabicNormalizationFilter(stream);
      stream = new PersianNormalizationFilter(stream);
      stream = new StopFilter(stream, EnglishAnalyzer.ENGLISH_STOP_WORDS_SET);
      stream = new PorterStemFilter(stream);
      return new TokenStreamComponents(tokenizer, stream);
    }
  };

  private TextAnalysis() {}

  /** The terms of the text in order, repeats included. */
  List<String> terms(String text) {
    List<String> terms = new ArrayList<>();
    try (TokenStream stream = analyzer.tokenStream("text", text)) {
      CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
      stream.reset();
      while (stream.incrementToken()) {
        terms.add(term.toString());
      }
      stream.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen: the text is in memory
    }
    return terms;
  }

  /** Calls {@code each} with every term of the text and the words it was analysed from, in order. */
  void tokens(String text, BiConsumer<String, String> each) {
    try (TokenStream stream = analyzer.tokenStream("text", text)) {
      CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
      OffsetAttribute offset = stream.addAttribute(OffsetAttribute.class);
      stream.reset();
      while (stream.incrementToken()) {
        each.accept(term.toString(), text.substring(offset.startOffset(), offset.endOffset()));
      }
      stream.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen: the text is in memory
    }
  }

  /**
   * The form under which two texts count as "the same" for de-duplication: Unicode NFKC,
   * case-folded, runs of whitespace collapsed, punctuation at either end dropped. Stricter
   * than the index terms on purpose: "I like tea" and "I liked tea" are not the same text.
   */
  static String sameTextKey(String text) {
    String s = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
    s = SPACES.matcher(s).replaceAll(" ").strip();
    s = EDGE_PUNCTUATION.matcher(s).replaceAll("");
    return s.isEmpty() ? text.strip() : s;
  }
}
