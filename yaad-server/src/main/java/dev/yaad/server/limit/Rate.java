package dev.yaad.server.limit;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rate limit as people write it, {@code 20/10s}: at most {@code count} in any {@code period}
 * on average, and never more than {@code count} at once (the burst). {@link #OFF} is no limit.
 * A {@link TokenBucket} enforces one.
 *
 * {@snippet :
 * Rate rate = Rate.parse("120/10s");   // 120 per 10 seconds, bursts of up to 120
 * Rate off = Rate.parse("off");
 * }
 *
 * @param count  how many per period, and the largest burst; 0 for no limit
 * @param period the window the count refills over; positive unless {@code count} is 0
 */
public record Rate(long count, Duration period) {
  /** No limit. */
  public static final Rate OFF = new Rate(0, Duration.ZERO);

  private static final Pattern TEXT = Pattern.compile("(\\d{1,12})\\s*/\\s*(\\d{0,6})\\s*(ms|s|m|h|d)");

  public Rate {
    Objects.requireNonNull(period, "period");
    if (count < 0) {
      throw new IllegalArgumentException("a rate's count cannot be negative (was " + count + ")");
    }
    if (count > 0 && (period.isNegative() || period.isZero())) {
      throw new IllegalArgumentException("a rate's period must be positive (was " + period + ")");
    }
    if (count == 0) {
      period = Duration.ZERO;
    }
  }

  /** {@code count} per {@code period}. */
  public static Rate of(long count, Duration period) {
    return new Rate(count, period);
  }

  /**
   * Reads {@code N/period}: a whole number, a slash, and a period of an optional whole number
   * and a unit {@code ms}, {@code s}, {@code m}, {@code h} or {@code d}, such as {@code 20/10s},
   * {@code 1000/h}; or {@code off} (also {@code 0}) for no limit.
   *
   * @throws IllegalArgumentException naming the text and the expected form
   */
  public static Rate parse(String text) {
    String t = Objects.requireNonNull(text, "text").strip().toLowerCase(Locale.ROOT);
    if (t.equals("off") || t.equals("0")) {
      return OFF;
    }
    Matcher m = TEXT.matcher(t);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a rate: write N/period such as 20/10s, 600/m or 1000/h (units ms, s, m, h, d), or off");
    }
    long count = Long.parseLong(m.group(1));
    long times = m.group(2).isEmpty() ? 1 : Long.parseLong(m.group(2));
    Duration unit = switch (m.group(3)) {
      case "ms" -> Duration.ofMillis(1);
      case "s" -> Duration.ofSeconds(1);
      case "m" -> Duration.ofMinutes(1);
      case "h" -> Duration.ofHours(1);
      default -> Duration.ofDays(1);
    };
    if (count == 0) {
      return OFF;
    }
    if (times == 0) {
      throw new IllegalArgumentException("'" + text + "' has an empty period; write N/period such as 20/10s");
    }
    return new Rate(count, unit.multipliedBy(times));
  }

  /** True when this is no limit at all. */
  public boolean off() {
    return count == 0;
  }

  /** As {@link #parse} reads it: {@code 20/10s}, {@code off}. */
  @Override
  public String toString() {
    if (off()) {
      return "off";
    }
    long seconds = period.toSeconds();
    if (period.toMillis() % 1000 != 0) {
      return count + "/" + period.toMillis() + "ms";
    }
    if (seconds % 86_400 == 0) {
      return count + "/" + unit(seconds / 86_400, "d");
    }
    if (seconds % 3600 == 0) {
      return count + "/" + unit(seconds / 3600, "h");
    }
    if (seconds % 60 == 0) {
      return count + "/" + unit(seconds / 60, "m");
    }
    return count + "/" + unit(seconds, "s");
  }

  private static String unit(long n, String unit) {
    return n == 1 ? unit : n + unit;
  }
}
