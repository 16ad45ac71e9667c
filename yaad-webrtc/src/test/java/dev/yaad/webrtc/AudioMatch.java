package dev.yaad.webrtc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Does received audio contain a reference recording? The 10 ms loudness envelopes'
 * cross-correlation over every lag finds where the reference is (robust to the codec); then the
 * reference is followed through the received audio 100 ms at a time, each window matched on its
 * waveform near where the one before it was found. A receiver's jitter buffer stretches and
 * squeezes what it plays when packets come late (a busy machine), moving the rest of the
 * recording by some ms each time, so one lag for the whole recording does not fit its end.
 * Then two correlations with the audio so aligned: of the envelopes (the same loudness, when
 * and how long) and of the waveforms (the same sound, not just something equally loud).
 */
final class AudioMatch {
  private static final int BLOCK_MS = 10;
  private static final int WINDOW_MS = 100;
  /** How far a window may have moved from where the one before it was found. */
  private static final int DRIFT_MS = 20;
  /** How far a window not found near the one before it may have moved, looked for only then. */
  private static final int JUMP_MS = 250;
  /** A reference window quieter than this (RMS) is a pause: nothing to match. */
  private static final double LOUD = 500;
  /** A window matched this well is found: the next is looked for near it. */
  private static final double FOUND = 0.5;

  /**
   * @param lagSamples where the reference starts in the received audio
   * @param envelope the loudness envelopes' correlation, reference against {@code aligned}
   * @param waveform the median, over the reference's loud windows, of each window's waveform
   *     correlation where it was found
   * @param aligned the received audio that matches the reference, window by window, as long as it
   */
  record Result(int lagSamples, double envelope, double waveform, short[] aligned) {}

  private AudioMatch() {}

  static Result find(short[] reference, short[] received, int rate) {
    int block = rate * BLOCK_MS / 1000;
    double[] ref = envelope(reference, block);
    double[] rec = envelope(received, block);
    int bestLag = 0;
    double best = -1;
    for (int lag = 0; lag + ref.length <= rec.length; lag++) {
      double c = ncc(ref, rec, lag);
      if (c > best) {
        best = c;
        bestLag = lag;
      }
    }
    int lag = bestLag * block;
    int window = rate * WINDOW_MS / 1000;
    int drift = rate * DRIFT_MS / 1000;
    int jump = rate * JUMP_MS / 1000;
    short[] aligned = new short[reference.length];
    List<Double> matches = new ArrayList<>();
    int shift = 0; // how far the received audio has moved so far, in samples
    for (int w = 0; w < reference.length; w += window) {
      int n = Math.min(window, reference.length - w);
      if (n == window && Signals.rms(reference, w, w + window) >= LOUD) {
        Found found = best(reference, w, window, received, lag + w, shift - drift, shift + drift);
        if (found.match() < FOUND) { // a pause stretched or squeezed as a whole moves it further
          found = best(reference, w, window, received, lag + w, shift - jump, shift + jump);
        }
        if (found.match() >= FOUND) {
          shift = found.shift();
        }
        matches.add(found.match());
      }
      int at = lag + w + shift;
      if (at >= 0 && at + n <= received.length) {
        System.arraycopy(received, at, aligned, w, n);
      }
    }
    Collections.sort(matches);
    double waveform = matches.isEmpty() ? 0 : matches.get(matches.size() / 2);
    return new Result(lag, ncc(ref, envelope(aligned, block), 0), waveform, aligned);
  }

  private record Found(int shift, double match) {}

  /** Where in {@code [at + from, at + to]} of {@code received} the reference's window at {@code w} matches best. */
  private static Found best(short[] reference, int w, int window, short[] received, int at, int from, int to) {
    Found best = new Found(from, 0);
    for (int s = from; s <= to; s++) {
      double c = at + s >= 0 && at + s + window <= received.length ? ncc(reference, w, received, at + s, window) : 0;
      if (c > best.match()) {
        best = new Found(s, c);
      }
    }
    return best;
  }

  /** How many ms of {@code pcm} are louder than {@code threshold} RMS (in 10 ms blocks). */
  static int loudMillis(short[] pcm, int rate, double threshold) {
    int block = rate * BLOCK_MS / 1000;
    int loud = 0;
    for (double rms : envelope(pcm, block)) {
      if (rms > threshold) {
        loud++;
      }
    }
    return loud * BLOCK_MS;
  }

  private static double[] envelope(short[] pcm, int block) {
    double[] e = new double[pcm.length / block];
    for (int i = 0; i < e.length; i++) {
      e[i] = Signals.rms(pcm, i * block, (i + 1) * block);
    }
    return e;
  }

  private static double ncc(double[] ref, double[] rec, int lag) {
    double rr = 0;
    double xx = 0;
    double rx = 0;
    double mr = mean(ref, 0, ref.length);
    double mx = mean(rec, lag, ref.length);
    for (int i = 0; i < ref.length; i++) {
      double a = ref[i] - mr;
      double b = rec[lag + i] - mx;
      rr += a * a;
      xx += b * b;
      rx += a * b;
    }
    return rr == 0 || xx == 0 ? 0 : rx / Math.sqrt(rr * xx);
  }

  private static double ncc(short[] ref, int from, short[] rec, int at, int n) {
    double rr = 0;
    double xx = 0;
    double rx = 0;
    for (int i = 0; i < n; i++) {
      double a = ref[from + i];
      double b = rec[at + i];
      rr += a * a;
      xx += b * b;
      rx += a * b;
    }
    return rr == 0 || xx == 0 ? 0 : rx / Math.sqrt(rr * xx);
  }

  private static double mean(double[] v, int from, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += v[from + i];
    }
    return s / n;
  }
}
