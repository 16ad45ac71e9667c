package dev.yaad.memory.outage;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Logs a remote provider's outage (an LLM or embeddings endpoint) as changes of state, not as
 * failed calls: one line when it goes down, a reminder with the count while it stays down (at
 * most once per {@link #DEFAULT_REMINDER}), one line when it is back, each naming the host and
 * port. Never a stack trace: the reason is the failure's one-line summary. Callers report every
 * call's outcome; an answer that is the caller's fault (a 400) is neither.
 *
 * <p>A provider that fails again within {@link #SETTLE} of coming back is unsteady (overloaded:
 * it answers some calls and times out others): that outage resumes without a line, its reminders
 * count the answers too, and it is back only once it has answered with no failure for
 * {@link #SETTLE} — not a down and a back-up line per flip (a load run at 500 sessions logged 31
 * of each in 6 s).
 *
 * <pre>
 * WARN  llm: 127.0.0.1:11434 is down (ConnectException: Connection refused); calls fail until it answers
 * WARN  llm: 127.0.0.1:11434 is still down: 14 failed calls in 60 s (last: ConnectException: Connection refused)
 * INFO  llm: 127.0.0.1:11434 is back up after 23 failed calls in 95 s
 * </pre>
 *
 * Thread-safe.
 */
public final class OutageLog {
  public static final Duration DEFAULT_REMINDER = Duration.ofSeconds(60);
  /** How long a provider answers without a failure before it counts as back. */
  public static final Duration SETTLE = Duration.ofSeconds(10);

  private final Logger log;
  private final String prefix;
  private final long reminderNanos;
  private final LongSupplier nanoTime;
  private boolean down;
  private long failures;
  private long answered;
  private long lastFailureNanos;
  private boolean unsteady;
  private boolean cameBack;
  private long upSinceNanos;
  private long downSinceNanos;
  private long lastLineNanos;

  /**
   * @param log      the component's logger
   * @param what     the component prefix of its lines, such as {@code llm} or {@code embed}
   * @param endpoint the provider's URL; only its host and port are named
   */
  public OutageLog(Logger log, String what, URI endpoint) {
    this(log, what, endpoint, DEFAULT_REMINDER, System::nanoTime);
  }

  /** As above, with the reminder interval and the clock given (tests). */
  public OutageLog(Logger log, String what, URI endpoint, Duration reminder, LongSupplier nanoTime) {
    this.log = Objects.requireNonNull(log, "log");
    this.prefix = what + ": " + hostAndPort(endpoint);
    this.reminderNanos = reminder.toNanos();
    this.nanoTime = nanoTime;
  }

  /** A call failed because the provider did not answer properly (connection, timeout, 429, 5xx). */
  public void failed(Throwable error) {
    failed(summary(error));
  }

  /** As {@link #failed(Throwable)}, with the reason already summarised. */
  public synchronized void failed(String reason) {
    long now = nanoTime.getAsLong();
    failures++;
    lastFailureNanos = now;
    if (!down) {
      down = true;
      downSinceNanos = now;
      lastLineNanos = now;
      unsteady = cameBack && now - upSinceNanos < SETTLE.toNanos();
      if (unsteady) {
        return;
      }
      log.warn("{} is down ({}); calls fail until it answers", prefix, reason);
    } else if (now - lastLineNanos >= reminderNanos) {
      lastLineNanos = now;
      log.warn("{} is still down: {} failed calls{} in {} s (last: {})", prefix, failures,
          answered == 0 ? "" : " and " + answered + " answered", seconds(now - downSinceNanos), reason);
    }
  }

  /** A call got its answer. */
  public synchronized void succeeded() {
    if (!down) {
      return;
    }
    long now = nanoTime.getAsLong();
    if (unsteady && now - lastFailureNanos < SETTLE.toNanos()) {
      answered++;
      return;
    }
    log.info("{} is back up after {} failed calls in {} s", prefix, failures, seconds(now - downSinceNanos));
    cameBack = true;
    upSinceNanos = now;
    down = false;
    failures = 0;
    answered = 0;
  }

  public synchronized boolean isDown() {
    return down;
  }

  /** {@code host:port}, with the scheme's default port when the URL has none. */
  static String hostAndPort(URI endpoint) {
    int port = endpoint.getPort();
    if (port < 0) {
      port = "https".equalsIgnoreCase(endpoint.getScheme()) ? 443 : 80;
    }
    return endpoint.getHost() + ":" + port;
  }

  /** The innermost cause's class and message, on one line. */
  static String summary(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? "" : root.getMessage().replaceAll("\\s+", " ").strip();
    if (message.length() > 160) {
      message = message.substring(0, 160) + "...";
    }
    return root.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
  }

  private static long seconds(long nanos) {
    return Math.round(nanos / 1e9);
  }
}
