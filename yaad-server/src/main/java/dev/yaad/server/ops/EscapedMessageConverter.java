package dev.yaad.server.ops;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * The log message ({@code %msg}) with every character that could forge or hide a line
 * escaped as {@code \\uXXXX}: control characters (a newline, a carriage return, an ANSI escape),
 * the Unicode line and paragraph separators, and the bidirectional overrides. Log lines carry
 * text that clients chose (paths, user ids, a model's tool arguments, error messages that
 * quote input); escaping once, where every line is written, covers all of them, including
 * those from libraries. {@code logback.xml} names it {@code %safeMsg}.
 */
public final class EscapedMessageConverter extends MessageConverter {

  @Override
  public String convert(ILoggingEvent event) {
    return escape(super.convert(event));
  }

  static String escape(String text) {
    if (text == null) {
      return null;
    }
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean unsafe = c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029'
          || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069');
      if (unsafe && out == null) {
        out = new StringBuilder(text.length() + 16).append(text, 0, i);
      }
      if (out != null) {
        if (unsafe) {
          out.append("\\u").append(String.format("%04X", (int) c));
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? text : out.toString();
  }
}
