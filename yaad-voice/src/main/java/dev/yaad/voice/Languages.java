package dev.yaad.voice;

import java.util.Locale;

/** BCP 47 tags as the engines need them: {@code ur-PK} → {@code ur}. */
final class Languages {
  private Languages() {}

  /** The primary subtag in lower case, or {@code null} for none. */
  static String primary(String tag) {
    if (tag == null || tag.isBlank()) {
      return null;
    }
    String t = tag.strip();
    int dash = t.indexOf('-') >= 0 ? t.indexOf('-') : t.indexOf('_');
    return (dash > 0 ? t.substring(0, dash) : t).toLowerCase(Locale.ROOT);
  }

  /**
   * The language to speak {@code text} in: the session's, or for a session that follows whatever
   * the user speaks, Urdu when the text is in Arabic script and English otherwise.
   */
  static String forText(String sessionLanguage, String text) {
    String primary = primary(sessionLanguage);
    if (primary != null) {
      return primary;
    }
    for (int i = 0; i < text.length(); i++) {
      if (Character.UnicodeScript.of(text.charAt(i)) == Character.UnicodeScript.ARABIC) {
        return "ur";
      }
    }
    return "en";
  }
}
