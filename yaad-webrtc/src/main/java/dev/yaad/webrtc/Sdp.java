package dev.yaad.webrtc;

import java.util.ArrayList;
import java.util.List;

/**
 * The one SDP edit this transport makes, since webrtc-java 0.14.0 has no API for codec
 * parameters: the packet duration ({@code a=ptime}) it asks of the peer that applies a
 * description. WebRTC's Opus encoder takes its frame length from the {@code ptime} of the
 * <em>remote</em> description (the next supported length at or above it: 10, 20, 40, 60 ms),
 * so each side writes it into the description it sends, and into the one it receives before
 * applying it (the same wish whichever peer wrote the text: a browser's offer says nothing).
 */
final class Sdp {
  private Sdp() {}

  /**
   * {@code sdp} with {@code a=ptime:millis} at the end of every audio section, in place of any
   * {@code a=ptime} it had; other sections and lines unchanged, line endings kept (CRLF or LF).
   */
  static String withPtime(String sdp, int millis) {
    String eol = sdp.contains("\r\n") ? "\r\n" : "\n";
    String ptime = "a=ptime:" + millis;
    List<String> out = new ArrayList<>();
    boolean audio = false;
    for (String line : sdp.split("\r?\n")) {
      if (line.startsWith("m=")) {
        if (audio) {
          out.add(ptime);
        }
        audio = line.startsWith("m=audio ");
      }
      if (!(audio && line.startsWith("a=ptime:"))) {
        out.add(line);
      }
    }
    if (audio) {
      out.add(ptime);
    }
    return String.join(eol, out) + (sdp.endsWith("\n") ? eol : "");
  }
}
