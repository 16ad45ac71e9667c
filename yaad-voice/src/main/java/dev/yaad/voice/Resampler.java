package dev.yaad.voice;

/**
 * Mono 16-bit PCM from one sample rate to another, streaming (state kept across calls): a
 * windowed-sinc interpolator (Blackman window, 16 zero crossings) whose cut-off is a little under
 * the lower of the two Nyquist frequencies, so going down (48 → 16 kHz) does not fold the upper
 * band into speech and going up (16 → 24 kHz) does not image. About 32 multiply-adds per output
 * sample going up and 32 × ratio going down: tens of microseconds per 20 ms frame. Delays the
 * stream by 8 input samples (at most 1 ms at 8 kHz). One per stream, one thread.
 *
 * <p>When the rates reduce to a ratio {@code from' : to'} with {@code to'} at most
 * {@value #MAX_PHASES} (all the usual ones: 24 → 16 kHz is 3 : 2), an output sample falls at one of
 * {@code to'} fractional positions between input samples, so the kernel's weights for each are
 * worked out once (a polyphase filter) and an output sample is a plain dot product: text-to-speech's
 * audio, resampled as it streams in, was the server's largest Java hot spot with the weights
 * interpolated from the table per tap.
 */
final class Resampler {
  private static final int ZEROS = 8; // zero crossings either side of the centre, at the cut-off
  private static final int TABLE = 512; // kernel samples per zero crossing (linear interpolation between)
  /** Rate pairs with more output phases than this are interpolated per tap instead (weights would take too much room). */
  static final int MAX_PHASES = 1024;

  private final int from;
  private final int to;
  private final double step; // input samples per output sample
  private final double cutoff; // relative to the input rate's Nyquist
  private final int half; // kernel half-width in input samples
  private final float[] kernel; // kernel(x) for x = i / TABLE input samples, x >= 0
  private float[] buffer = new float[4096];
  private int length; // valid samples in buffer
  private double next; // position of the next output sample in buffer coordinates
  // Polyphase (null when the ratio has too many phases): the next output sample lies at
  // base + phase / phases, and phase p's weights are weights[p * 2 * half ...], for input samples base - half + 1 on.
  private final float[] weights;
  private final int phases; // to'
  private final int advance; // from'
  private int base;
  private int phase;

  Resampler(int from, int to) {
    this(from, to, true);
  }

  /** With {@code polyphase} false, every weight is interpolated from the table as it is used (the reference). */
  Resampler(int from, int to, boolean polyphase) {
    if (from <= 0 || to <= 0) {
      throw new IllegalArgumentException("sample rates must be positive, got " + from + " and " + to);
    }
    this.from = from;
    this.to = to;
    this.step = (double) from / to;
    this.cutoff = 0.92 * Math.min(1.0, (double) to / from);
    this.half = (int) Math.ceil(ZEROS / cutoff);
    this.kernel = KERNELS.computeIfAbsent(((long) from << 32) | to, k -> kernel(cutoff, half));
    this.length = half; // silence before the stream, so the first samples have a left side
    this.next = half;
    int gcd = gcd(from, to);
    this.phases = to / gcd;
    this.advance = from / gcd;
    this.weights = polyphase && phases <= MAX_PHASES ? WEIGHTS.computeIfAbsent(((long) from << 32) | to, k -> weights(kernel, half, phases)) : null;
    this.base = half;
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** The polyphase weights by rate pair, made from the kernel table as {@link #sample} reads it. */
  private static final java.util.Map<Long, float[]> WEIGHTS = new java.util.concurrent.ConcurrentHashMap<>();

  private static float[] weights(float[] kernel, int half, int phases) {
    float[] w = new float[phases * 2 * half];
    for (int p = 0; p < phases; p++) {
      double f = (double) p / phases;
      for (int j = 0; j < 2 * half; j++) {
        double x = Math.abs(j - half + 1 - f);
        w[p * 2 * half + j] = x >= half ? 0 : (float) interpolated(kernel, x);
      }
    }
    return w;
  }

  /** The kernel at {@code x} input samples from the centre, interpolated linearly from the table. */
  private static double interpolated(float[] kernel, double x) {
    double k = x * TABLE;
    int j = (int) k;
    double f = k - j;
    return kernel[j] + f * (kernel[j + 1] - kernel[j]);
  }

  /**
   * The kernel tables by rate pair ({@code from << 32 | to}): a table is 21 000 sines and cosines,
   * about half a millisecond, and text-to-speech makes a resampler per sentence, before its
   * first audio. Read-only once made.
   */
  private static final java.util.Map<Long, float[]> KERNELS = new java.util.concurrent.ConcurrentHashMap<>();

  private static float[] kernel(double cutoff, int half) {
    float[] kernel = new float[half * TABLE + 2];
    for (int i = 0; i < kernel.length; i++) {
      double x = (double) i / TABLE;
      double sinc = x == 0 ? 1 : Math.sin(Math.PI * x * cutoff) / (Math.PI * x * cutoff);
      double w = x >= half ? 0 : 0.42 + 0.5 * Math.cos(Math.PI * x / half) + 0.08 * Math.cos(2 * Math.PI * x / half);
      kernel[i] = (float) (cutoff * sinc * w);
    }
    return kernel;
  }

  int from() {
    return from;
  }

  int to() {
    return to;
  }

  /** Resamples {@code pcm}; returns the samples ready so far (possibly none). */
  short[] process(short[] pcm) {
    return process(pcm, pcm.length);
  }

  short[] process(short[] pcm, int n) {
    if (from == to) {
      return java.util.Arrays.copyOf(pcm, n);
    }
    if (length + n > buffer.length) {
      buffer = java.util.Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + n));
    }
    for (int i = 0; i < n; i++) {
      buffer[length++] = pcm[i];
    }
    if (weights != null) {
      return polyphase();
    }
    int capacity = (int) ((length - half - next) / step) + 2;
    short[] out = new short[Math.max(capacity, 0)];
    int written = 0;
    while (next + half < length && written < out.length) {
      out[written++] = sample(next);
      next += step;
    }
    // Keep what the next outputs still need: from (next - half) on.
    int drop = Math.max(0, (int) Math.floor(next) - half);
    if (drop > 0) {
      System.arraycopy(buffer, drop, buffer, 0, length - drop);
      length -= drop;
      next -= drop;
    }
    return written == out.length ? out : java.util.Arrays.copyOf(out, written);
  }

  private short[] polyphase() {
    int taps = 2 * half;
    // Output samples whose taps are all in the buffer: base + half < length (or, at a whole sample, base + half - 1 < length).
    long ready = Math.max(0, ((long) (length - half - base) * phases - phase + advance - 1) / advance);
    short[] out = new short[(int) ready];
    for (int o = 0; o < out.length; o++) {
      int from = base - half + 1;
      int w = phase * taps;
      double acc = 0;
      for (int j = 0; j < taps; j++) {
        acc += buffer[from + j] * weights[w + j];
      }
      out[o] = clip(acc);
      phase += advance;
      base += phase / phases;
      phase %= phases;
    }
    int drop = Math.max(0, base - half);
    if (drop > 0) {
      System.arraycopy(buffer, drop, buffer, 0, length - drop);
      length -= drop;
      base -= drop;
    }
    return out;
  }

  private static short clip(double acc) {
    long v = Math.round(acc);
    return (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, v));
  }

  private short sample(double t) {
    int centre = (int) Math.floor(t);
    double acc = 0;
    for (int i = centre - half + 1; i <= centre + half; i++) {
      double x = Math.abs(i - t);
      if (x >= half) {
        continue;
      }
      acc += buffer[i] * interpolated(kernel, x);
    }
    return clip(acc);
  }

  /** The end of the stream: the last samples, held back by the interpolator's delay (followed by a little silence). */
  short[] flush() {
    return from == to ? new short[0] : process(new short[half + 2]);
  }

  /** Resamples a whole clip at once (flushing the stream's delay with silence). */
  static short[] convert(short[] pcm, int from, int to) {
    if (from == to) {
      return pcm;
    }
    Resampler r = new Resampler(from, to);
    short[] body = r.process(pcm);
    short[] tail = r.flush();
    long expected = (long) pcm.length * to / from;
    short[] all = java.util.Arrays.copyOf(body, (int) Math.min(body.length + tail.length, Math.max(expected, body.length)));
    System.arraycopy(tail, 0, all, body.length, all.length - body.length);
    return all;
  }
}
