package dev.yaad.webrtc;

import java.util.function.Consumer;

/** Collects a call's incoming frames into one growing array (bounded), for analysis. */
final class Recorder implements Consumer<PcmFrame> {
  private final short[] samples;
  private int length;
  private volatile int rate;

  Recorder(int maxSamples) {
    this.samples = new short[maxSamples];
  }

  @Override
  public synchronized void accept(PcmFrame frame) {
    rate = frame.sampleRate();
    int n = Math.min(frame.samples().length, samples.length - length);
    System.arraycopy(frame.samples(), 0, samples, length, n);
    length += n;
  }

  synchronized int length() {
    return length;
  }

  int rate() {
    return rate;
  }

  synchronized short[] samples() {
    return java.util.Arrays.copyOf(samples, length);
  }
}
