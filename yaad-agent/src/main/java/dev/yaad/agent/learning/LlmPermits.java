package dev.yaad.agent.learning;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The bound on background LLM calls in flight ({@link LearningConfig#llmConcurrency()}). Work
 * runs on virtual threads, so a call waiting here holds no platform thread; the bound is what
 * the LLM provider is asked to serve at once, not what the JVM can run.
 */
final class LlmPermits {
  private final Semaphore permits;
  private final AtomicInteger inFlight = new AtomicInteger();

  LlmPermits(int concurrency) {
    this.permits = new Semaphore(concurrency, true); // fair: the oldest waiting work goes first
  }

  /**
   * Runs {@code call} once a permit is free.
   *
   * @throws IllegalStateException if interrupted while waiting (the learner is stopping; the
   *     work stays in the outbox)
   */
  <T> T call(Supplier<T> call) {
    try {
      permits.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("the learner is stopping", e);
    }
    inFlight.incrementAndGet();
    try {
      return call.get();
    } finally {
      inFlight.decrementAndGet();
      permits.release();
    }
  }

  /** Calls running now. */
  int inFlight() {
    return inFlight.get();
  }
}
