package dev.yaad.agent.learning;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * When a session's waiting turns fall due: once {@link LearningConfig#batchTurns()} are
 * waiting, or once the session has been quiet for {@link LearningConfig#pauseDelay()} (a timer
 * that every new turn restarts). Counts only; the turns themselves wait in the outbox.
 */
final class PauseTimers {
  private final int batchTurns;
  private final long pauseMillis;
  private final ScheduledExecutorService timers;
  private final Map<String, SessionBatch> sessions = new ConcurrentHashMap<>();

  /** A session's turns waiting for their batch to fill, and the pause timer running for them. */
  private static final class SessionBatch {
    int waiting;
    ScheduledFuture<?> pauseTimer;
  }

  PauseTimers(LearningConfig config, ScheduledExecutorService timers) {
    this.batchTurns = config.batchTurns();
    this.pauseMillis = config.pauseDelay().toMillis();
    this.timers = timers;
  }

  /**
   * A turn of {@code sessionId} is in the outbox.
   *
   * @param onPause run if the session then stays quiet for the pause delay
   * @return true if the batch is full: the caller makes it due now
   */
  boolean turnAdded(String sessionId, Runnable onPause) {
    SessionBatch batch = sessions.computeIfAbsent(sessionId, k -> new SessionBatch());
    synchronized (batch) {
      batch.waiting++;
      cancelTimer(batch);
      if (batch.waiting >= batchTurns) {
        return true;
      }
      try {
        batch.pauseTimer = timers.schedule(onPause, pauseMillis, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // Stopping: the turn falls due in the outbox after the pause delay all the same.
      }
      return false;
    }
  }

  /** The session's waiting turns were made due: start counting again. */
  void reset(String sessionId) {
    SessionBatch batch = sessions.get(sessionId);
    if (batch != null) {
      synchronized (batch) {
        batch.waiting = 0;
        cancelTimer(batch);
      }
    }
  }

  void forget(String sessionId) {
    sessions.remove(sessionId);
  }

  /** Sessions with a batch being counted. */
  List<String> sessions() {
    return List.copyOf(sessions.keySet());
  }

  private static void cancelTimer(SessionBatch batch) {
    if (batch.pauseTimer != null) {
      batch.pauseTimer.cancel(false);
      batch.pauseTimer = null;
    }
  }
}
