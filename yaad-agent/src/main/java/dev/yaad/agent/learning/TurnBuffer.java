package dev.yaad.agent.learning;

import dev.yaad.agent.AgentMetrics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finished turns on their way into the outbox: a session hands a turn over and goes on at
 * once; one writer thread inserts the turns in the order they came, many per transaction when
 * they pile up. While the database cannot take them (stopped, restarting, its pool exhausted)
 * they wait here, bounded in bytes, and the writer retries with backoff until it is back: an
 * accepted turn is not lost to a blink of the database. Only a full buffer refuses a turn,
 * and {@link #offer} says so, so that the turn's outcome can tell the client.
 *
 * <p>With a {@link TurnJournal}, every turn held here is also in a local file until it is
 * written, so a crash of the process does not lose it either: the next start writes it.
 *
 * <p>Logs once when it starts holding turns and once when they are written, never per retry.
 * {@link #close} writes what it can within a bounded wait and logs what it could not.
 */
final class TurnBuffer {
  private static final Logger log = LoggerFactory.getLogger(TurnBuffer.class);
  /** The most turns one transaction inserts. */
  static final int MAX_BATCH = 256;
  private static final long FIRST_BACKOFF_MS = 50;
  private static final long MAX_BACKOFF_MS = 2_000;

  /** One finished turn; {@code bytes} is what it holds in memory here. */
  record Turn(String userId, String sessionId, String payload, long acceptedAt, String key) {
    long bytes() {
      // Strings as UTF-16 plus the objects around them: an estimate on the safe side.
      return 2L * (payload.length() + userId.length() + (sessionId == null ? 0 : sessionId.length())
          + (key == null ? 0 : key.length())) + 128;
    }
  }

  /** Writes turns to the database; throws when it cannot (nothing written then). */
  interface Writer {
    void write(List<Turn> turns);
  }

  private final long maxBytes;
  private final Writer writer;
  private final Consumer<Turn> stored;
  private final AgentMetrics metrics;
  private final TurnJournal journal; // or null; guarded by lock
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** Turns and, between them, actions to run once the turns before them are written. */
  private final ArrayDeque<Object> turns = new ArrayDeque<>(); // guarded by lock
  private long bytes; // guarded by lock
  private int held; // turns in the deque; guarded by lock
  private boolean closed; // guarded by lock
  private final AtomicLong dropped = new AtomicLong();
  private final Thread thread;
  // Touched by the writer thread only:
  private long holdingSinceNanos;
  private long failedAttempts;

  /**
   * @param maxBytes most bytes of turns held in memory
   * @param writer   inserts a batch in one transaction
   * @param stored   told of each turn once it is in the database (on the writer thread)
   * @param journal  where held turns are also kept against a crash, or null; the turns of
   *                 processes that stopped without writing theirs are taken over first
   */
  TurnBuffer(long maxBytes, Writer writer, Consumer<Turn> stored, AgentMetrics metrics, TurnJournal journal) {
    this.maxBytes = maxBytes;
    this.writer = writer;
    this.stored = stored;
    this.metrics = metrics;
    this.journal = journal;
    if (journal != null) {
      for (Turn t : journal.recover()) { // already in this process's journal; beyond the bound if need be: they were accepted
        turns.addLast(t);
        bytes += t.bytes();
        held++;
      }
    }
    this.thread = Thread.ofVirtual().name("yaad-learner-writer").start(this::run);
  }

  /** Takes a turn to write; false if it cannot be kept (the buffer is full or closed): it is lost. */
  boolean offer(Turn turn) {
    lock.lock();
    try {
      if (!closed && bytes + turn.bytes() <= maxBytes) {
        turns.addLast(turn);
        bytes += turn.bytes();
        held++;
        if (journal != null) {
          journal.append(turn);
        }
        changed.signalAll();
        return true;
      }
    } finally {
      lock.unlock();
    }
    long n = dropped.incrementAndGet();
    metrics.learning("turn.dropped");
    if (n == 1 || Long.bitCount(n) == 1) { // the 1st, 2nd, 4th, 8th...: visible, never a flood
      log.warn("learner: the turn buffer is full ({} bytes held while the database cannot take them) or stopping;"
          + " {} turn(s) dropped so far", maxBytes, n);
    }
    return false;
  }

  /**
   * Runs {@code action} on the writer thread once every turn offered before it is written (at
   * once if none waits): what must follow a session's turns, such as its end.
   */
  void afterWritten(Runnable action) {
    lock.lock();
    try {
      if (!closed && !turns.isEmpty()) {
        turns.addLast(action); // a few bytes per ended session: not counted against the bound
        changed.signalAll();
        return;
      }
    } finally {
      lock.unlock();
    }
    action.run();
  }

  /** Turns waiting for the database. */
  int held() {
    lock.lock();
    try {
      return held;
    } finally {
      lock.unlock();
    }
  }

  long heldBytes() {
    lock.lock();
    try {
      return bytes;
    } finally {
      lock.unlock();
    }
  }

  /** Turns refused since start because the buffer was full. */
  long dropped() {
    return dropped.get();
  }

  /**
   * Takes no more turns and waits at most {@code wait} for the held ones to be written; logs
   * what is left, which is lost.
   */
  void close(Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
      while (!turns.isEmpty()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        changed.await(left, TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      lock.unlock();
    }
    thread.interrupt();
    try {
      thread.join(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    lock.lock();
    try {
      if (held > 0 && journal != null) {
        log.warn("learner: stopping with {} turn(s) ({} bytes) the database did not take within {} ms; they stay in the"
            + " turn journal for the next start", held, bytes, wait.toMillis());
      } else if (held > 0) {
        log.error("learner: stopping with {} turn(s) ({} bytes) the database did not take within {} ms; they are lost",
            held, bytes, wait.toMillis());
      }
      if (journal != null) {
        journal.close();
      }
      turns.clear();
      bytes = 0;
      held = 0;
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    long backoff = FIRST_BACKOFF_MS;
    boolean oneAtATime = false;
    while (true) {
      List<Turn> batch;
      try {
        batch = next(oneAtATime ? 1 : MAX_BATCH);
      } catch (InterruptedException e) {
        return;
      }
      if (batch == null) {
        return;
      }
      if (batch.isEmpty()) {
        continue; // an action was at the head: it ran
      }
      try {
        writer.write(batch);
      } catch (RuntimeException e) {
        if (rejectsData(e)) {
          if (batch.size() > 1) {
            oneAtATime = true; // find the turn the database refuses; the others go through
            continue;
          }
          // This turn can never be stored (the database refuses its data): retrying it would stall every other.
          remove(batch);
          dropped.incrementAndGet();
          metrics.learning("turn.dropped");
          log.error("learner: the database refuses a turn of user {}; it is dropped: {}", batch.getFirst().userId(), e.getMessage());
          continue;
        }
        failedAttempts++;
        if (holdingSinceNanos == 0) {
          holdingSinceNanos = System.nanoTime();
          log.warn("learner: cannot write turns to the outbox ({}); holding them in memory (at most {} bytes) and retrying",
              e.getMessage(), maxBytes);
        }
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException interrupted) {
          return;
        }
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        continue;
      }
      backoff = FIRST_BACKOFF_MS;
      oneAtATime = false;
      remove(batch);
      for (Turn t : batch) {
        try {
          stored.accept(t);
        } catch (RuntimeException e) {
          log.warn("learner: after writing a turn of user {}: {}", t.userId(), e.toString());
        }
      }
      if (holdingSinceNanos != 0 && held() == 0) {
        log.info("learner: the outbox takes turns again; every held turn is written ({} failed attempts in {} ms)",
            failedAttempts, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - holdingSinceNanos));
        holdingSinceNanos = 0;
        failedAttempts = 0;
      }
    }
  }

  /**
   * The oldest turns up to the next action, at most {@code max}, left in the buffer until
   * written; empty after running an action found at the head; null once closed and empty.
   */
  private List<Turn> next(int max) throws InterruptedException {
    Runnable action;
    lock.lock();
    try {
      while (turns.isEmpty()) {
        if (closed) {
          return null;
        }
        changed.await();
      }
      if (turns.peekFirst() instanceof Turn) {
        List<Turn> batch = new ArrayList<>(Math.min(max, turns.size()));
        for (Object o : turns) {
          if (!(o instanceof Turn t) || batch.size() == max) {
            break;
          }
          batch.add(t);
        }
        return batch;
      }
      action = (Runnable) turns.removeFirst();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      action.run();
    } catch (RuntimeException e) {
      log.warn("learner: after writing turns: {}", e.toString());
    }
    return List.of();
  }

  /**
   * Whether the database refused the data itself (SQL state class 22, data exception, or 23,
   * integrity constraint): no retry will change that, unlike a connection that failed.
   */
  static boolean rejectsData(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLException sql) {
        for (java.sql.SQLException e = sql; e != null; e = e.getNextException()) {
          String state = e.getSQLState();
          if (state != null && (state.startsWith("22") || state.startsWith("23"))) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private void remove(List<Turn> batch) {
    lock.lock();
    try {
      for (int i = 0; i < batch.size(); i++) {
        bytes -= ((Turn) turns.removeFirst()).bytes();
        held--;
      }
      if (journal != null && held == 0) {
        journal.clear();
      } else if (journal != null) {
        journal.written(() -> turns.stream().filter(Turn.class::isInstance).map(Turn.class::cast).iterator(), bytes);
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
