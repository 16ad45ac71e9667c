package dev.yaad.agent;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A handle on one thing the companion says: a greeting, a reply, or a fixed text.
 *
 * <p>Its text reaches the session's listeners as deltas; {@link #done()} completes with the
 * {@link Outcome} once it is over, and never exceptionally. A speech asked of a session that
 * is not active is returned already {@link Outcome#CANCELLED}: asking never throws.
 */
public final class Speech {
  public enum Kind { GREETING, REPLY, SAY }

  public enum Outcome {
    /** Everything was delivered. */
    COMPLETED,
    /** A new user turn cut it off (barge-in); {@link #text()} is what was delivered. */
    INTERRUPTED,
    /** The session closed, or the speech was cancelled or not allowed; nothing more is delivered. */
    CANCELLED,
    /** The LLM failed; {@link #error()} says why. */
    FAILED
  }

  private final Kind kind;
  private final long startNanos = System.nanoTime();
  private final StringBuilder text = new StringBuilder();
  private final CompletableFuture<Outcome> done = new CompletableFuture<>();
  private final AtomicReference<Outcome> outcome = new AtomicReference<>();
  private volatile Throwable error;
  private volatile long firstDeltaNanos;
  volatile Runnable onCancel = () -> { };
  /** The LLM call feeding this speech, cancelled when it ends. */
  volatile dev.yaad.agent.llm.Llm.Stream stream;
  /** For a reply: what the user said. */
  volatile String userText;

  Speech(Kind kind) {
    this.kind = kind;
  }

  static Speech cancelled(Kind kind) {
    Speech s = new Speech(kind);
    s.finish(Outcome.CANCELLED, null);
    s.announceDone();
    return s;
  }

  public Kind kind() {
    return kind;
  }

  /** The text delivered so far (all of it once completed). */
  public synchronized String text() {
    return text.toString();
  }

  /** Completes when the speech is over (after the listeners heard so), with how it ended. */
  public CompletionStage<Outcome> done() {
    return done;
  }

  /** How it ended, or {@code null} while it goes on. */
  public Outcome outcome() {
    return outcome.get();
  }

  public boolean isDone() {
    return outcome.get() != null;
  }

  public boolean isCancelled() {
    return outcome.get() == Outcome.CANCELLED;
  }

  /** Why it failed, or {@code null}. */
  public Throwable error() {
    return error;
  }

  /** From the start of the speech to its first delta, or {@code null} if none was delivered. */
  public Duration firstDeltaLatency() {
    long first = firstDeltaNanos;
    return first == 0 ? null : Duration.ofNanos(first - startNanos);
  }

  /** Stops it: nothing more is delivered, and it ends {@link Outcome#CANCELLED}. Idempotent. */
  public void cancel() {
    if (finish(Outcome.CANCELLED, null)) {
      onCancel.run();
    }
  }

  long startNanos() {
    return startNanos;
  }

  /** Records a delta; the caller has checked that the speech is live. */
  synchronized void append(String delta) {
    if (firstDeltaNanos == 0) {
      firstDeltaNanos = System.nanoTime();
    }
    text.append(delta);
  }

  /** Ends it once (nothing more is delivered); later calls return false. */
  boolean finish(Outcome how, Throwable cause) {
    if (!outcome.compareAndSet(null, how)) {
      return false;
    }
    error = cause;
    return true;
  }

  /** Completes {@link #done()}, after the listeners have heard that it ended. */
  void announceDone() {
    done.complete(outcome.get());
  }

  @Override
  public String toString() {
    return "Speech[" + kind + ", " + (outcome.get() == null ? "speaking" : outcome.get()) + "]";
  }
}
