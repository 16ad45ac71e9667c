package dev.yaad.voice;

import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's audio on its way to the VAD: frames are queued by the transport's thread and
 * processed on {@link VadThreads}, one at a time and in arrival order (the lane is in at most one
 * batch at a time), its VAD's windows run in a batch with other sessions'. Holds at most
 * {@link #MAX_QUEUED_SAMPLES} samples: a transport that gets further ahead of the VAD waits in
 * {@link #add} (its socket then stops reading, and the client's audio-rate limit applies as
 * before), nothing is dropped.
 */
final class VadLane {
  private static final Logger log = LoggerFactory.getLogger(VadLane.class);
  /** Two seconds at 48 kHz: far more than a VAD that keeps up ever holds. */
  static final int MAX_QUEUED_SAMPLES = 96_000;
  private static final short[] NOTHING = {};

  /** Takes one frame that arrived at {@code arrivedNanos}; returns its 16 kHz samples, for the VAD. */
  interface Sink {
    short[] frame(short[] pcm, long arrivedNanos);
  }

  private record Frame(short[] pcm, long arrivedNanos) {}

  private final VadThreads threads;
  private final Sink sink;
  private final SileroVad vad;
  private final BooleanSupplier closed;
  private final String name;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition room = lock.newCondition();
  private final ArrayDeque<Frame> frames = new ArrayDeque<>(); // guarded by lock
  private int queuedSamples; // guarded by lock
  private boolean scheduled; // queued on the threads or in a batch; guarded by lock
  // The frame in a batch, on the VAD thread that has the lane.
  private short[] current = NOTHING;
  private int used;
  private boolean failureLogged;

  VadLane(VadThreads threads, Sink sink, SileroVad vad, BooleanSupplier closed, String name) {
    this.threads = threads;
    this.sink = sink;
    this.vad = vad;
    this.closed = closed;
    this.name = name;
  }

  /** Queues a frame, stamped with its arrival; waits while the lane is full. */
  void add(short[] pcm) {
    long now = System.nanoTime();
    lock.lock();
    try {
      while (queuedSamples > 0 && queuedSamples + pcm.length > MAX_QUEUED_SAMPLES && !closed.getAsBoolean()) {
        room.awaitUninterruptibly();
      }
      frames.add(new Frame(pcm, now));
      queuedSamples += pcm.length;
      if (scheduled) {
        return;
      }
      scheduled = true;
    } finally {
      lock.unlock();
    }
    try {
      threads.schedule(this);
    } catch (RejectedExecutionException e) { // the voice is shutting down
      lock.lock();
      try {
        frames.clear();
        queuedSamples = 0;
        scheduled = false;
        room.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  SileroVad vad() {
    return vad;
  }

  /** In a batch: takes the next frame and hands it to the sink; a closed lane's frames are dropped. */
  void nextFrame() {
    Frame f;
    lock.lock();
    try {
      f = frames.poll();
      if (closed.getAsBoolean()) { // emptied without processing
        frames.clear();
        queuedSamples = 0;
      } else if (f != null) {
        queuedSamples -= f.pcm().length;
      }
      room.signalAll();
    } finally {
      lock.unlock();
    }
    used = 0;
    current = NOTHING;
    if (f == null || closed.getAsBoolean()) {
      return;
    }
    try {
      current = sink.frame(f.pcm(), f.arrivedNanos());
    } catch (RuntimeException e) {
      failed(e);
    }
  }

  /** Feeds the frame to the VAD; true when a window is full and waits for the model. */
  boolean fill() {
    if (used < current.length && !vad.windowFull()) {
      used += vad.fill(current, used, current.length);
    }
    return vad.windowFull();
  }

  void windowDone(float probability) {
    try {
      vad.windowDone(probability);
    } catch (RuntimeException e) {
      failed(e);
    }
  }

  void windowLost(RuntimeException e) {
    vad.windowLost();
    failed(e);
  }

  /** The frame is done: true when another waits (the lane stays scheduled), false when the lane is idle. */
  boolean frameDone() {
    current = NOTHING;
    lock.lock();
    try {
      scheduled = !frames.isEmpty();
      return scheduled;
    } finally {
      lock.unlock();
    }
  }

  /** The rest of the frame is lost, not the lane. */
  private void failed(RuntimeException e) {
    current = NOTHING;
    if (!failureLogged) {
      failureLogged = true;
      log.warn("voice {}: processing audio failed (logged once per session): {}", name, e.toString());
    }
  }
}
