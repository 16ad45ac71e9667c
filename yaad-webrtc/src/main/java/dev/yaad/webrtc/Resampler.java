package dev.yaad.webrtc;

/**
 * Mono 16-bit PCM from WebRTC's rate (48 kHz) to the pipeline's. An integer ratio down (48 to
 * 16 kHz) goes through a windowed-sinc low-pass first, so that speech above 8 kHz does not fold
 * back into the band speech-to-text listens to; any other ratio is interpolated linearly, which
 * is enough for the rare case and keeps this small. Stateful across calls: one per stream, one
 * thread.
 */
final class Resampler {
  private final int from;
  private final int to;
  // Integer decimation.
  private final int factor;
  private final float[] taps;
  private final float[] history;
  private int historyPos;
  private int phase;
  // Linear interpolation.
  private double position;
  private short previous;

  Resampler(int from, int to) {
    this.from = from;
    this.to = to;
    this.factor = from > to && from % to == 0 ? from / to : 0;
    this.taps = factor > 1 ? lowPass(factor) : new float[0];
    this.history = new float[taps.length];
  }

  int from() {
    return from;
  }

  /** The most output samples {@link #process} can produce from {@code n} input samples. */
  int maxOutput(int n) {
    return (int) ((long) n * to / from) + 2;
  }

  /** Resamples {@code n} samples of {@code in} into {@code out}; returns how many it wrote. */
  int process(short[] in, int n, short[] out) {
    if (from == to) {
      System.arraycopy(in, 0, out, 0, n);
      return n;
    }
    return factor > 1 ? decimate(in, n, out) : interpolate(in, n, out);
  }

  private int decimate(short[] in, int n, short[] out) {
    int written = 0;
    int length = taps.length;
    for (int i = 0; i < n; i++) {
      history[historyPos] = in[i];
      historyPos = (historyPos + 1) % length;
      if (++phase == factor) {
        phase = 0;
        float acc = 0;
        int p = historyPos; // the oldest sample
        for (int t = 0; t < length; t++) {
          acc += taps[t] * history[p];
          if (++p == length) {
            p = 0;
          }
        }
        out[written++] = clamp(acc);
      }
    }
    return written;
  }

  private int interpolate(short[] in, int n, short[] out) {
    double step = (double) from / to;
    int written = 0;
    // position runs over [-1, n): -1 is the last sample of the previous call.
    while (position < n - 1 + 1e-9 && written < out.length) {
      int i = (int) Math.floor(position);
      double frac = position - i;
      double a = i < 0 ? previous : in[i];
      double b = in[Math.min(i + 1, n - 1)];
      out[written++] = clamp((float) (a + (b - a) * frac));
      position += step;
    }
    position -= n;
    previous = n > 0 ? in[n - 1] : previous;
    return written;
  }

  private static short clamp(float v) {
    return (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, Math.round(v)));
  }

  /** A Blackman-windowed sinc, cut-off at 90% of the output Nyquist frequency, unity gain at DC. */
  static float[] lowPass(int factor) {
    int length = 24 * factor + 1;
    double cutoff = 0.45 / factor; // cycles per input sample
    float[] h = new float[length];
    double sum = 0;
    int mid = length / 2;
    for (int k = 0; k < length; k++) {
      int x = k - mid;
      double sinc = x == 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      double window = 0.42 - 0.5 * Math.cos(2 * Math.PI * k / (length - 1)) + 0.08 * Math.cos(4 * Math.PI * k / (length - 1));
      h[k] = (float) (sinc * window);
      sum += h[k];
    }
    for (int k = 0; k < length; k++) {
      h[k] /= (float) sum;
    }
    return h;
  }
}
