package dev.yaad.bench;

import java.util.Arrays;

/**
 * Latencies of one measured path, recorded with {@link System#nanoTime} into a preallocated
 * array (no allocation, no locking on the measured path; one thread records). Percentiles
 * are exact, by nearest rank over the sorted samples.
 */
final class Latencies {
  private final long[] nanos;
  private int count;

  Latencies(int capacity) {
    this.nanos = new long[capacity];
  }

  void record(long elapsedNanos) {
    nanos[count++] = elapsedNanos;
  }

  int count() {
    return count;
  }

  /** The figures of everything recorded so far. */
  Summary summary() {
    if (count == 0) {
      throw new IllegalStateException("no latency recorded");
    }
    long[] sorted = Arrays.copyOf(nanos, count);
    Arrays.sort(sorted);
    double sum = 0;
    for (long n : sorted) {
      sum += n;
    }
    return new Summary(count, millis(percentile(sorted, 50)), millis(percentile(sorted, 90)),
        millis(percentile(sorted, 99)), millis(sorted[0]), millis(sorted[count - 1]), sum / count / 1e6);
  }

  /** Nearest rank: the smallest sample with at least p% of the samples at or below it. */
  static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }

  /** All in milliseconds. */
  record Summary(int samples, double p50, double p90, double p99, double min, double max, double mean) {}
}
