package dev.yaad.voice;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/** An {@link AudioOut} that plays in real time, as a speaker would: what is queued drains at the sample rate. */
final class PlayedOut implements AudioOut {
  private final int rate;
  private final int speed;
  private long received; // samples handed to play
  private short[] kept = new short[0]; // the first KEEP samples handed to play, to listen to
  private static final int KEEP_SECONDS = 8;
  private long queuedSamples; // not yet played at playStart + elapsed
  private long drainFrom; // when the queue last started draining
  final AtomicInteger stops = new AtomicInteger();

  PlayedOut(int rate) {
    this(rate, 1);
  }

  /** Plays {@code speed} times faster than real time (for tests that only wait for the end). */
  PlayedOut(int rate, int speed) {
    this.rate = rate;
    this.speed = speed;
  }

  @Override
  public synchronized void play(short[] pcm) {
    drain();
    if (queuedSamples == 0) {
      drainFrom = System.nanoTime();
    }
    queuedSamples += pcm.length;
    received += pcm.length;
    int room = rate * KEEP_SECONDS - kept.length;
    if (room > 0) {
      int n = Math.min(room, pcm.length);
      kept = Arrays.copyOf(kept, kept.length + n);
      System.arraycopy(pcm, 0, kept, kept.length - n, n);
    }
  }

  /** The first seconds of audio handed to play (at most {@value #KEEP_SECONDS} s). */
  synchronized short[] firstSeconds() {
    return kept.clone();
  }

  @Override
  public synchronized void stop() {
    queuedSamples = 0;
    stops.incrementAndGet();
  }

  @Override
  public synchronized long queuedMillis() {
    drain();
    return queuedSamples * 1000 / rate;
  }

  synchronized long receivedSamples() {
    return received;
  }

  private void drain() {
    long now = System.nanoTime();
    long played = (now - drainFrom) * rate * speed / 1_000_000_000L;
    long done = Math.min(played, queuedSamples);
    queuedSamples -= done;
    drainFrom += done * 1_000_000_000L / rate / speed;
  }
}
