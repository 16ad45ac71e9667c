package dev.yaad.agent.learning;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How background learning batches, debounces and retries. Start from {@link #defaults()}.
 *
 * @param batchTurns         a session's turns are extracted together once this many are waiting, 1..50
 * @param pauseDelay         ... or once the session has been quiet this long (and always when it ends)
 * @param maxBatchTurns      the most turns one extraction call covers, {@code >= batchTurns}
 * @param profileDebounce    a profile refresh waits until no memory change has arrived for this
 *                           long, so that the changes of a conversation make one refresh
 * @param profileMinInterval at most one profile refresh per user in this interval
 * @param profileSimilarity  a new profile whose word overlap (Jaccard) with the old one is at least
 *                           this is "not meaningfully changed" and is not saved, 0..1
 * @param llmConcurrency     the most background LLM calls (extraction, profile) in flight at once:
 *                           work runs on virtual threads, users' work at the same time (each
 *                           user's in order); learning starts at 8 calls (or this, if less) and
 *                           adapts between 2 and this, more while work waits and live replies
 *                           stay fast, fewer when they slow down; size it to what the LLM
 *                           provider serves in parallel
 * @param queueCapacity      tasks waiting in memory; beyond it, work waits in the database
 * @param retryBase          first retry delay after a failure; doubles per attempt
 * @param retryMax           the longest retry delay; failed work is retried forever, never dropped
 * @param lease              how long a claim on a user's work lasts; a crashed learner's work
 *                           is taken over after this
 * @param pollInterval       how often the database is checked for due work (retries, pauses,
 *                           work left by another process)
 * @param lagWarning         learning lag (the age of the oldest turn not yet learned) beyond which
 *                           one WARN line says learning is falling behind (and one INFO line when
 *                           it has caught up again)
 * @param turnBufferBytes    finished turns held in memory while the database cannot take them
 *                           (stopped, restarting, pool exhausted), in bytes; a turn beyond it is
 *                           dropped and its reply says so
 * @param turnJournal        a directory where the turns held in memory are also appended, so that a
 *                           crash of the process does not lose them (the next start writes them to
 *                           the outbox), or null for none
 */
public record LearningConfig(
    int batchTurns, Duration pauseDelay, int maxBatchTurns,
    Duration profileDebounce, Duration profileMinInterval, double profileSimilarity,
    int llmConcurrency, int queueCapacity, Duration retryBase, Duration retryMax, Duration lease, Duration pollInterval,
    Duration lagWarning, long turnBufferBytes, Path turnJournal) {
  /** The most background LLM calls in flight at once unless configured. */
  public static final int DEFAULT_LLM_CONCURRENCY = 64;
  /** The learning lag that is worth a warning unless configured. */
  public static final Duration DEFAULT_LAG_WARNING = Duration.ofMinutes(2);
  /** Bytes of finished turns held in memory while the database cannot take them, unless configured. */
  public static final long DEFAULT_TURN_BUFFER_BYTES = 64L << 20;

  public LearningConfig {
    Objects.requireNonNull(pauseDelay, "pauseDelay");
    Objects.requireNonNull(profileDebounce, "profileDebounce");
    Objects.requireNonNull(profileMinInterval, "profileMinInterval");
    Objects.requireNonNull(retryBase, "retryBase");
    Objects.requireNonNull(retryMax, "retryMax");
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(pollInterval, "pollInterval");
    Objects.requireNonNull(lagWarning, "lagWarning");
    if (batchTurns < 1 || batchTurns > 50) {
      throw new IllegalArgumentException("batchTurns must be 1..50 (was " + batchTurns + ")");
    }
    if (maxBatchTurns < batchTurns) {
      throw new IllegalArgumentException("maxBatchTurns (" + maxBatchTurns + ") cannot be less than batchTurns (" + batchTurns + ")");
    }
    if (profileSimilarity < 0 || profileSimilarity > 1) {
      throw new IllegalArgumentException("profileSimilarity must be 0..1 (was " + profileSimilarity + ")");
    }
    if (llmConcurrency < 1 || llmConcurrency > 10_000) {
      throw new IllegalArgumentException("llmConcurrency must be 1..10000 (was " + llmConcurrency + ")");
    }
    if (lagWarning.isZero() || lagWarning.isNegative()) {
      throw new IllegalArgumentException("lagWarning must be positive (was " + lagWarning + ")");
    }
    if (queueCapacity < 1) {
      throw new IllegalArgumentException("queueCapacity cannot be less than 1 (was " + queueCapacity + ")");
    }
    if (pollInterval.isZero() || pollInterval.isNegative() || lease.isZero() || lease.isNegative()) {
      throw new IllegalArgumentException("pollInterval and lease must be positive (were " + pollInterval + ", " + lease + ")");
    }
    if (turnBufferBytes < 64 * 1024) {
      throw new IllegalArgumentException("turnBufferBytes cannot be less than 65536 (was " + turnBufferBytes + ")");
    }
    if (retryMax.compareTo(retryBase) < 0) {
      throw new IllegalArgumentException("retryMax (" + retryMax + ") cannot be less than retryBase (" + retryBase + ")");
    }
  }

  public static LearningConfig defaults() {
    return new LearningConfig(4, Duration.ofSeconds(20), 16,
        Duration.ofSeconds(5), Duration.ofMinutes(2), 0.85,
        DEFAULT_LLM_CONCURRENCY, 10_000, Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofMinutes(2), Duration.ofSeconds(1),
        DEFAULT_LAG_WARNING, DEFAULT_TURN_BUFFER_BYTES, null);
  }

  public LearningConfig withBatch(int turns, Duration pause) {
    return new LearningConfig(turns, pause, Math.max(maxBatchTurns, turns), profileDebounce, profileMinInterval,
        profileSimilarity, llmConcurrency, queueCapacity, retryBase, retryMax, lease, pollInterval, lagWarning, turnBufferBytes, turnJournal);
  }

  public LearningConfig withProfile(Duration debounce, Duration minInterval, double similarity) {
    return new LearningConfig(batchTurns, pauseDelay, maxBatchTurns, debounce, minInterval, similarity,
        llmConcurrency, queueCapacity, retryBase, retryMax, lease, pollInterval, lagWarning, turnBufferBytes, turnJournal);
  }

  public LearningConfig withRetry(Duration base, Duration max) {
    return new LearningConfig(batchTurns, pauseDelay, maxBatchTurns, profileDebounce, profileMinInterval,
        profileSimilarity, llmConcurrency, queueCapacity, base, max, lease, pollInterval, lagWarning, turnBufferBytes, turnJournal);
  }

  public LearningConfig withLease(Duration lease, Duration pollInterval) {
    return new LearningConfig(batchTurns, pauseDelay, maxBatchTurns, profileDebounce, profileMinInterval,
        profileSimilarity, llmConcurrency, queueCapacity, retryBase, retryMax, lease, pollInterval, lagWarning, turnBufferBytes, turnJournal);
  }

  public LearningConfig withConcurrency(int llmConcurrency, int queueCapacity) {
    return new LearningConfig(batchTurns, pauseDelay, maxBatchTurns, profileDebounce, profileMinInterval,
        profileSimilarity, llmConcurrency, queueCapacity, retryBase, retryMax, lease, pollInterval, lagWarning, turnBufferBytes, turnJournal);
  }

  public LearningConfig withLagWarning(Duration lagWarning) {
    return new LearningConfig(batchTurns, pauseDelay, maxBatchTurns, profileDebounce, profileMinInterval,
        profileSimilarity, llmConcurrency, queueCapacity, retryBase, retryMax, lease, pollInterval, lagWarning, turnBufferBytes, turnJournal);
  }

  public LearningConfig withTurnBuffer(long bytes) {
    return new LearningConfig(batchTurns, pauseDelay, maxBatchTurns, profileDebounce, profileMinInterval,
        profileSimilarity, llmConcurrency, queueCapacity, retryBase, retryMax, lease, pollInterval, lagWarning, bytes, turnJournal);
  }

  public LearningConfig withTurnJournal(Path directory) {
    return new LearningConfig(batchTurns, pauseDelay, maxBatchTurns, profileDebounce, profileMinInterval,
        profileSimilarity, llmConcurrency, queueCapacity, retryBase, retryMax, lease, pollInterval, lagWarning, turnBufferBytes,
        directory);
  }
}
