package dev.yaad.agent.learning;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A bound on work in flight whose size can change while work runs (a semaphore that can be
 * resized): a smaller bound lets the running work finish and admits no more until it is under
 * it. Fair: the longest waiting goes first.
 */
final class Gate {
  private final ReentrantLock lock = new ReentrantLock(true);
  private final Condition free = lock.newCondition();
  private int limit; // guarded by lock
  private int inFlight; // guarded by lock
  private int waiting; // guarded by lock

  Gate(int limit) {
    this.limit = limit;
  }

  /**
   * Runs {@code work} once fewer than the limit are in flight.
   *
   * @throws IllegalStateException if interrupted while waiting (the learner is stopping; the
   *     work stays in the outbox)
   */
  <T> T call(Supplier<T> work) {
    lock.lock();
    try {
      waiting++;
      try {
        while (inFlight >= limit) {
          free.await();
        }
      } finally {
        waiting--;
      }
      inFlight++;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("the learner is stopping", e);
    } finally {
      lock.unlock();
    }
    try {
      return work.get();
    } finally {
      lock.lock();
      try {
        inFlight--;
        free.signal();
      } finally {
        lock.unlock();
      }
    }
  }

  void resize(int limit) {
    lock.lock();
    try {
      this.limit = limit;
      free.signalAll();
    } finally {
      lock.unlock();
    }
  }

  int inFlight() {
    lock.lock();
    try {
      return inFlight;
    } finally {
      lock.unlock();
    }
  }

  /** Callers waiting for room now. */
  int waiting() {
    lock.lock();
    try {
      return waiting;
    } finally {
      lock.unlock();
    }
  }
}
