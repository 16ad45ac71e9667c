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

  /** What became of a reply's turn in background learning. */
  public enum Learning {
    /** Handed to learning: it will be extracted, even if the database is briefly away. */
    QUEUED,
    /** Could not be kept (the server held too many turns while its database was away): it is not learned. */
    DROPPED
  }

  private final Kind kind;
  private final String id;
  private final String turnId;
  private final long startNanos = System.nanoTime();
  private volatile long endNanos;
  private final StringBuilder text = new StringBuilder();
  private final CompletableFuture<Outcome> done = new CompletableFuture<>();
  private final AtomicReference<Outcome> outcome = new AtomicReference<>();
  private volatile Throwable error;
  private volatile long firstDeltaNanos;
  volatile Runnable onCancel = () -> { };
  /** The LLM call feeding this speech, cancelled when it ends. */
  volatile dev.yaad.agent.llm.Llm.Stream stream;
  /** What the user heard of it, when a barge-in said so ({@link Session#interrupted}); guarded by this. */
  String heard;
  /** The history's message for it, once it ended; guarded by this. */
  dev.langchain4j.data.message.AiMessage kept;
  /** For a reply: what the user said. */
  volatile String userText;
  /** For a reply: its turn's fate in learning, set before the listeners hear that it ended. */
  volatile Learning learning;

  Speech(Kind kind, String id, String turnId) {
    this.kind = kind;
    this.id = id;
    this.turnId = turnId;
  }

  static Speech cancelled(Kind kind, String turnId) {
    Speech s = new Speech(kind, kind.name().toLowerCase(java.util.Locale.ROOT).charAt(0) + "-cancelled", turnId);
    s.finish(Outcome.CANCELLED, null);
    s.announceDone();
    return s;
  }

  public Kind kind() {
    return kind;
  }

  /** Unique within its session, e.g. {@code g-1} for the greeting, {@code r-2} for a reply. */
  public String id() {
    return id;
  }

  /** The caller's id for the user turn this replies to ({@link Session#reply(String, String)}), or {@code null}. */
  public String turnId() {
    return turnId;
  }

  /** From start to end, or {@code null} while it goes on. */
  public Duration duration() {
    long end = endNanos;
    return end == 0 ? null : Duration.ofNanos(end - startNanos);
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

  /**
   * For a reply that has ended: whether its turn was kept for background learning; {@code null}
   * for greetings and fixed texts, and when the runtime learns nothing.
   */
  public Learning learning() {
    return learning;
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
    endNanos = System.nanoTime();
    return true;
  }

  /** Completes {@link #done()}, after the listeners have heard that it ended. */
  void announceDone() {
    done.complete(outcome.get());
  }

  @Override
  public String toString() {
    return "Speech[" + id + ", " + (outcome.get() == null ? "speaking" : outcome.get()) + "]";
  }
}
