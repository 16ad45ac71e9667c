package dev.yaad.agent.learning;

import java.util.Arrays;

/**
 * How many background LLM calls learning may have in flight, decided again each interval:
 * more while work waits for a call and live replies are as fast as they have lately been,
 * fewer as soon as live replies slow down. Learning is background work: it takes what the
 * machine and the LLM have to spare, and gives it back to conversations first.
 *
 * <p>"As fast as lately" compares the interval's median time to a reply's first token with
 * the lower quartile of the interval medians of the last {@value #BASELINE_INTERVALS} intervals
 * (not their minimum: on a busy machine one lucky interval would make every other look slow): slower by
 * more than {@value #TOLERANCE_MS} ms plus a quarter is "slowed down", and the limit halves;
 * otherwise, while work waited for a call, it grows by a quarter (at least one). Intervals
 * with fewer than {@value #MIN_SAMPLES} replies say nothing about replies (there are hardly
 * any to hurt). Once learning has fallen behind (its lag past the warning), it yields no
 * further than where it started: background work yields, but does not starve. One timer calls {@link #adjust}; {@link #limit} may be read from any thread.
 */
final class AdaptiveLimit {
  static final int BASELINE_INTERVALS = 30;
  static final double TOLERANCE_MS = 50;
  static final int MIN_SAMPLES = 5;

  private final int min;
  private final int max;
  private final int initial;
  private final double[] medians = new double[BASELINE_INTERVALS];
  private int intervals;
  private volatile int limit; // read by any thread, written by the timer

  /** Starts at {@code initial}, stays within {@code min..max}. */
  AdaptiveLimit(int initial, int min, int max) {
    this.min = min;
    this.max = max;
    this.initial = Math.clamp(initial, min, max);
    this.limit = this.initial;
    Arrays.fill(medians, Double.NaN);
  }

  int limit() {
    return limit;
  }

  /**
   * One interval's verdict.
   *
   * @param replyFirstTokenMs the first-token times of the live replies that started in the interval
   * @param demand            whether work waited for a call during the interval
   * @param behind            whether learning has fallen behind (its lag is past the warning): then it
   *                          yields no further than where it started, so that it still catches up
   * @return the new limit
   */
  int adjust(double[] replyFirstTokenMs, boolean demand, boolean behind) {
    boolean slowed = false;
    if (replyFirstTokenMs.length >= MIN_SAMPLES) {
      double[] sorted = replyFirstTokenMs.clone();
      Arrays.sort(sorted);
      double median = sorted[sorted.length / 2];
      double[] recent = Arrays.stream(medians).filter(m -> !Double.isNaN(m)).sorted().toArray();
      double baseline = recent.length == 0 ? median : recent[recent.length / 4]; // a low quartile: one lucky interval is not the norm
      slowed = median > baseline * 1.25 + TOLERANCE_MS;
      medians[intervals++ % BASELINE_INTERVALS] = median;
    }
    int floor = behind ? initial : min;
    if (slowed) {
      limit = Math.max(floor, limit / 2);
    } else if (demand) {
      limit = Math.min(max, limit + Math.max(1, limit / 4));
    }
    limit = Math.max(floor, limit);
    return limit;
  }
}
