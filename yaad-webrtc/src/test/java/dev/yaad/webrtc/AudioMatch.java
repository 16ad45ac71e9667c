package dev.yaad.webrtc;

/**
 * Does received audio contain a reference recording? Two normalized cross-correlations: of the
 * 10 ms loudness envelopes over every lag (robust to the codec, finds where the reference is),
 * then of the waveforms themselves around that lag (proves it is the same sound, not just
 * something equally loud).
 */
final class AudioMatch {
  private static final int BLOCK_MS = 10;

  record Result(int lagSamples, double envelope, double waveform) {}

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
    // Refine to the sample within one block either side, on the waveform.
    int from = Math.max(0, bestLag * block - block);
    int to = Math.min(received.length - reference.length, bestLag * block + block);
    double bestWave = -1;
    int bestSample = from;
    for (int lag = from; lag <= to; lag++) {
      double c = ncc(reference, received, lag);
      if (c > bestWave) {
        bestWave = c;
        bestSample = lag;
      }
    }
    return new Result(bestSample, best, bestWave);
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

  private static double ncc(short[] ref, short[] rec, int lag) {
    double rr = 0;
    double xx = 0;
    double rx = 0;
    for (int i = 0; i < ref.length; i++) {
      double a = ref[i];
      double b = rec[lag + i];
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
