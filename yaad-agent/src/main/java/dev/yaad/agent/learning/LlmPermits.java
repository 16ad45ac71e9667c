package dev.yaad.agent.learning;

import java.util.Arrays;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bound on background learning: LLM calls in flight, at most
 * {@link LearningConfig#llmConcurrency()}, sized each {@link #INTERVAL_MS} ms by an
 * {@link AdaptiveLimit} that grows it while work waits and live replies stay fast, and halves it
 * when they slow down; and a user's whole task (claim, call, store) at twice that, so that
 * learning's database work does not crowd the pool that live turns borrow from either.
 */
final class LlmPermits {
  private static final Logger log = LoggerFactory.getLogger(LlmPermits.class);
  static final long INTERVAL_MS = 2_000;
  /** The limit learning starts at, and goes no lower than once it has fallen behind. */
  static final int INITIAL = 8;
  /** The lowest limit, while live replies are slow and learning is not behind. */
  static final int MIN = 2;
  private static final int MAX_SAMPLES = 4_096;

  private final AdaptiveLimit limit;
  private final Gate calls;
  private final Gate tasks;
  private double[] samples = new double[64]; // guarded by this
  private int sampleCount; // guarded by this
  private boolean demand; // guarded by this: work waited for a call since the last adjustment

  LlmPermits(int max) {
    this.limit = new AdaptiveLimit(INITIAL, Math.min(MIN, max), max);
    this.calls = new Gate(limit.limit());
    this.tasks = new Gate(Lanes.WORK_THREADS_PER_LLM_CALL * limit.limit());
  }

  /**
   * Runs the LLM call once a permit is free.
   *
   * @throws IllegalStateException if interrupted while waiting (the learner is stopping; the
   *     work stays in the outbox)
   */
  <T> T call(Supplier<T> call) {
    if (calls.inFlight() >= limit.limit()) {
      synchronized (this) {
        demand = true;
      }
    }
    return calls.call(call);
  }

  /** Runs a learning task (it may make calls) once there is room for it. */
  void task(Runnable task) {
    tasks.call(() -> {
      task.run();
      return null;
    });
  }

  /** A live reply's first token came after {@code millis}. */
  synchronized void replyStarted(double millis) {
    if (sampleCount == samples.length && samples.length < MAX_SAMPLES) {
      samples = Arrays.copyOf(samples, samples.length * 2);
    }
    if (sampleCount < samples.length) {
      samples[sampleCount++] = millis;
    }
  }

  /**
   * Decides the next interval's limit (on the learner's timer).
   *
   * @param behind whether learning's lag is past the warning: then the limit stays at least {@value #INITIAL}
   */
  void adjust(boolean behind) {
    double[] interval;
    boolean waited;
    synchronized (this) {
      interval = Arrays.copyOf(samples, sampleCount);
      sampleCount = 0;
      waited = demand || calls.waiting() > 0;
      demand = false;
    }
    int before = limit.limit();
    int now = limit.adjust(interval, waited, behind);
    if (now != before) {
      calls.resize(now);
      tasks.resize(Lanes.WORK_THREADS_PER_LLM_CALL * now);
      log.debug("learner: {} background LLM calls at once (was {}; {} replies started in the interval)", now, before, interval.length);
    }
  }

  /** Calls running now. */
  int inFlight() {
    return calls.inFlight();
  }

  /** Calls allowed at once now. */
  int limit() {
    return limit.limit();
  }
}
