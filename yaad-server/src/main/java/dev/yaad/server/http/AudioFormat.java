package dev.yaad.server.http;

import dev.yaad.server.limit.Rate;
import java.time.Duration;
import java.util.List;

/** The audio of the session socket: 16-bit little-endian mono PCM at one of {@link #RATES}. */
final class AudioFormat {
  static final int DEFAULT_RATE = 16_000;
  /** Sample rates a client may send and ask for; the pipeline resamples the others to its own. */
  static final List<Integer> RATES = List.of(8_000, 16_000, 24_000, 48_000);

  private AudioFormat() {}

  /**
   * The byte budget of one session's audio at {@code sampleRate}: {@code burst} of audio at
   * once, refilled at {@code slack} times real time.
   */
  static Rate rate(int sampleRate, Duration burst, double slack) {
    long bytesPerSecond = 2L * sampleRate;
    long burstBytes = bytesPerSecond * burst.toMillis() / 1000;
    return Rate.of(burstBytes, Duration.ofNanos((long) (burstBytes * 1e9 / (bytesPerSecond * slack))));
  }
}
