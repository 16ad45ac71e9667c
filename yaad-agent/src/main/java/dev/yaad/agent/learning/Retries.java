package dev.yaad.agent.learning;

import dev.yaad.agent.AgentMetrics;
import dev.yaad.agent.llm.Llm;
import dev.yaad.memory.MemoryException;
import java.time.Clock;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failed work stays in the outbox and is tried again with exponential backoff, from
 * {@link LearningConfig#retryBase()} doubling up to {@link LearningConfig#retryMax()}, forever:
 * accepted work is never dropped. One WARN line per failure, without a stack trace; while the
 * LLM is unreachable (a retriable failure) only DEBUG, since the LLM's outage log says it once;
 * and only DEBUG while the learner stops, whose interrupt fails every task in flight (the
 * learner's "stopped" line counts what stays in the outbox for the next start).
 */
final class Retries {
  private static final Logger log = LoggerFactory.getLogger(Retries.class);

  private final Outbox outbox;
  private final LearningConfig config;
  private final Clock clock;
  private final Counters counters;
  private final AgentMetrics metrics;
  private final BooleanSupplier stopping;

  Retries(Outbox outbox, LearningConfig config, Clock clock, Counters counters, AgentMetrics metrics, BooleanSupplier stopping) {
    this.outbox = outbox;
    this.config = config;
    this.clock = clock;
    this.counters = counters;
    this.metrics = metrics;
    this.stopping = stopping;
  }

  /** Leaves the rows for a later attempt; always returns false (the work is not done). */
  boolean failed(String userId, List<Outbox.Row> rows, String what, RuntimeException error) {
    counters.failures.incrementAndGet();
    metrics.learning("failure");
    int attempts = rows.stream().mapToInt(Outbox.Row::attempts).max().orElse(0);
    long delay = Math.min(config.retryMax().toMillis(), config.retryBase().toMillis() << Math.min(20, attempts));
    try {
      outbox.retryLater(rows, clock.millis() + delay, error.toString());
    } catch (MemoryException e) {
      if (stopping.getAsBoolean()) {
        log.debug("learner: cannot record the failure for user {} while stopping (the work stays due): {}", userId, e.getMessage());
      } else {
        log.warn("learner: cannot record the failure for user {} (the work stays due): {}", userId, e.getMessage());
      }
    }
    if (Llm.isRetriable(error) || stopping.getAsBoolean()) {
      // The LLM is failing (its outage log says so once per change of state, not once per retry),
      // or the learner is stopping and interrupted this work.
      log.debug("learner: {} for user {} failed (attempt {}); retrying in {} ms: {}", what, userId, attempts + 1, delay, error.toString());
    } else {
      log.warn("learner: {} for user {} failed (attempt {}); retrying in {} ms: {}", what, userId, attempts + 1, delay, error.toString());
    }
    return false;
  }
}
