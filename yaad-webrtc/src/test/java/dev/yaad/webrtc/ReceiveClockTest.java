package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The receive clock's deadlines (its use with real calls:
 * {@code WebRtcTransportTest.receivedAudio_isPulledByTheTransportsClock_notByTheDevicesThread}).
 */
class ReceiveClockTest {
  private static final long MS = 1_000_000L;

  @Test
  void aLateClock_makesUpWhatItMissed_butSkipsWhatIsTooOld() {
    long next = 1_000 * MS;
    assertThat(ReceiveClock.catchUpFrom(next, next)).isEqualTo(next);
    assertThat(ReceiveClock.catchUpFrom(next + 5 * MS, next)).isEqualTo(next);
    // 150 ms late: the 15 missed pulls are made one after another.
    assertThat(ReceiveClock.catchUpFrom(next + 150 * MS, next)).isEqualTo(next);
    // 2 s late (a stalled process): the whole periods missed are skipped, the phase kept.
    assertThat(ReceiveClock.catchUpFrom(next + 2_003 * MS, next)).isEqualTo(next + 2_000 * MS);
  }
}
