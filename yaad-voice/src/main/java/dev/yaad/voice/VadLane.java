package dev.yaad.voice;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's audio on its way to the VAD: frames are queued by the transport's thread and
 * processed, one at a time and in arrival order, by at most one task on the shared VAD threads.
 * Holds at most {@link #MAX_QUEUED_SAMPLES} samples: a transport that gets further ahead of the
 * VAD waits in {@link #add} (its socket then stops reading, and the client's audio-rate limit
 * applies as before), nothing is dropped.
 */
final class VadLane {
  private static final Logger log = LoggerFactory.getLogger(VadLane.class);
  /** Two seconds at 48 kHz: far more than a VAD that keeps up ever holds. */
  static final int MAX_QUEUED_SAMPLES = 96_000;

  /** Processes one frame that arrived at {@code arrivedNanos}. */
  interface Sink {
    void process(short[] pcm, long arrivedNanos);
  }

  private record Frame(short[] pcm, long arrivedNanos) {}

  private final Executor threads;
  private final Sink sink;
  private final BooleanSupplier closed;
  private final String name;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition room = lock.newCondition();
  private final ArrayDeque<Frame> frames = new ArrayDeque<>(); // guarded by lock
  private int queuedSamples; // guarded by lock
  private boolean draining; // a drain task is scheduled or running; guarded by lock
  private boolean failureLogged;

  VadLane(Executor threads, Sink sink, BooleanSupplier closed, String name) {
    this.threads = threads;
    this.sink = sink;
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
      if (draining) {
        return;
      }
      draining = true;
    } finally {
      lock.unlock();
    }
    try {
      threads.execute(this::drain);
    } catch (RejectedExecutionException e) { // the voice is shutting down
      lock.lock();
      try {
        frames.clear();
        queuedSamples = 0;
        draining = false;
        room.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private void drain() {
    while (true) {
      Frame f;
      lock.lock();
      try {
        f = frames.poll();
        if (f == null) {
          draining = false;
          return;
        }
        queuedSamples -= f.pcm().length;
        room.signalAll();
      } finally {
        lock.unlock();
      }
      if (closed.getAsBoolean()) {
        continue; // emptied without processing
      }
      try {
        sink.process(f.pcm(), f.arrivedNanos());
      } catch (RuntimeException e) { // the frame is lost, not the lane
        if (!failureLogged) {
          failureLogged = true;
          log.warn("voice {}: processing audio failed (logged once per session): {}", name, e.toString());
        }
      }
    }
  }
}
