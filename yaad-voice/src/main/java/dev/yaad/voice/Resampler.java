package dev.yaad.voice;

/**
 * Mono 16-bit PCM from one sample rate to another, streaming (state kept across calls): a
 * windowed-sinc interpolator (Blackman window, 16 zero crossings) whose cut-off is a little under
 * the lower of the two Nyquist frequencies, so going down (48 → 16 kHz) does not fold the upper
 * band into speech and going up (16 → 24 kHz) does not image. About 32 multiply-adds per output
 * sample going up and 32 × ratio going down: tens of microseconds per 20 ms frame. Delays the
 * stream by 8 input samples (at most 1 ms at 8 kHz). One per stream, one thread.
 */
final class Resampler {
  private static final int ZEROS = 8; // zero crossings either side of the centre, at the cut-off
  private static final int TABLE = 512; // kernel samples per zero crossing (linear interpolation between)

  private final int from;
  private final int to;
  private final double step; // input samples per output sample
  private final double cutoff; // relative to the input rate's Nyquist
  private final int half; // kernel half-width in input samples
  private final float[] kernel; // kernel(x) for x = i / TABLE input samples, x >= 0
  private float[] buffer = new float[4096];
  private int length; // valid samples in buffer
  private double next; // position of the next output sample in buffer coordinates

  Resampler(int from, int to) {
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

  private short sample(double t) {
    int centre = (int) Math.floor(t);
    double acc = 0;
    for (int i = centre - half + 1; i <= centre + half; i++) {
      double x = Math.abs(i - t);
      if (x >= half) {
        continue;
      }
      double k = x * TABLE;
      int j = (int) k;
      double f = k - j;
      acc += buffer[i] * (kernel[j] + f * (kernel[j + 1] - kernel[j]));
    }
    long v = Math.round(acc);
    return (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, v));
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
