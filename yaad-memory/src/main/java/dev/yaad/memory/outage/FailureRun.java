package dev.yaad.memory.outage;

/**
 * Failures in a row of the commands sent to one server (Redis), where the commands in flight
 * together through one stall count once: a starved CPU or a short pause of the server fails
 * every command then in flight at once, and that is one piece of evidence, not many. A failure
 * counts only if its command was sent after the last counted failure; a success (any command's)
 * starts the count again. Whoever holds it decides how many in a row mean down.
 *
 * <p>Thread-safe.
 */
public final class FailureRun {
  private volatile int count; // read without the lock by reset(), which every successful command calls
  private long lastCountedAt;

  /**
   * Counts a failure of a command sent at {@code sentNanos} ({@link System#nanoTime()}).
   *
   * @return the failures in a row so far, or 0 if this one overlapped the last counted one
   */
  public synchronized int count(long sentNanos) {
    if (count > 0 && sentNanos - lastCountedAt < 0) {
      return 0;
    }
    lastCountedAt = System.nanoTime();
    return ++count;
  }

  /** A command succeeded: the run is over. */
  public void reset() {
    if (count != 0) {
      synchronized (this) {
        count = 0;
      }
    }
  }
}
