package dev.yaad.webrtc;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Test audio: tones, their measurement, and waiting on events with a deadline (never a fixed sleep). */
final class Signals {
  private Signals() {}

  static short[] tone(double hz, int rate, int millis, int amplitude) {
    short[] pcm = new short[rate * millis / 1000];
    for (int i = 0; i < pcm.length; i++) {
      pcm[i] = (short) Math.round(amplitude * Math.sin(2 * Math.PI * hz * i / rate));
    }
    return pcm;
  }

  /** The amplitude of the {@code hz} component of {@code pcm[from, to)} (Goertzel-style, phase-free). */
  static double amplitude(short[] pcm, int from, int to, double hz, int rate) {
    double c = 0;
    double s = 0;
    for (int i = from; i < to; i++) {
      c += pcm[i] * Math.cos(2 * Math.PI * hz * i / rate);
      s += pcm[i] * Math.sin(2 * Math.PI * hz * i / rate);
    }
    return 2 * Math.hypot(c, s) / (to - from);
  }

  static double rms(short[] pcm, int from, int to) {
    double e = 0;
    for (int i = from; i < to; i++) {
      e += (double) pcm[i] * pcm[i];
    }
    return to > from ? Math.sqrt(e / (to - from)) : 0;
  }

  static void await(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
      }
      LockSupport.parkNanos(2_000_000);
    }
  }
}
