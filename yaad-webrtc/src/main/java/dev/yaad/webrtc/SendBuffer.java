package dev.yaad.webrtc;

import java.util.ArrayDeque;

/**
 * A call's reply audio waiting to be played, bounded in bytes, handed to WebRTC in the 10 ms
 * chunks it works in. Audio at several rates may be queued one after another; a chunk never
 * mixes two rates (the tail of one rate is padded with silence, a few ms at most).
 */
final class SendBuffer {
  private final long limitBytes;
  private final ArrayDeque<Segment> segments = new ArrayDeque<>();
  private long bytes;
  private long queuedMicros;

  SendBuffer(long limitBytes) {
    this.limitBytes = limitBytes;
  }

  /** Copies {@code pcm} in; false (and nothing queued) if it would pass the limit. */
  synchronized boolean offer(short[] pcm, int sampleRate) {
    long size = 2L * pcm.length;
    if (bytes + size > limitBytes) {
      return false;
    }
    if (pcm.length > 0) {
      segments.add(new Segment(pcm.clone(), sampleRate));
      bytes += size;
      queuedMicros += pcm.length * 1_000_000L / sampleRate;
    }
    return true;
  }

  /**
   * Fills {@code out} with the next 10 ms and returns its rate, or 0 when nothing is queued (the
   * caller sends silence then).
   */
  synchronized int next10ms(short[] out) {
    Segment head = segments.peek();
    if (head == null) {
      return 0;
    }
    int rate = head.rate;
    int need = rate / 100;
    int filled = 0;
    while (filled < need) {
      Segment s = segments.peek();
      if (s == null || s.rate != rate) {
        java.util.Arrays.fill(out, filled, need, (short) 0);
        break;
      }
      int n = Math.min(need - filled, s.pcm.length - s.pos);
      System.arraycopy(s.pcm, s.pos, out, filled, n);
      s.pos += n;
      filled += n;
      bytes -= 2L * n;
      queuedMicros -= n * 1_000_000L / rate;
      if (s.pos == s.pcm.length) {
        segments.poll();
      }
    }
    if (segments.isEmpty()) {
      queuedMicros = 0; // drop the rounding left over from per-chunk division
    }
    return rate;
  }

  /** Drops everything queued; returns how many ms of audio that was. */
  synchronized long clear() {
    long ms = queuedMicros / 1000;
    segments.clear();
    bytes = 0;
    queuedMicros = 0;
    return ms;
  }

  synchronized long queuedMillis() {
    return queuedMicros / 1000;
  }

  private static final class Segment {
    final short[] pcm;
    final int rate;
    int pos;

    Segment(short[] pcm, int rate) {
      this.pcm = pcm;
      this.rate = rate;
    }
  }
}
