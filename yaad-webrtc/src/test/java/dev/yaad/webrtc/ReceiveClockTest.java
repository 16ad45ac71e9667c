package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.webrtc.WebRtcCall.State;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Received audio is pulled out of WebRTC by the transport's own clock (ReceiveClock), not by
 * webrtc-java's headless audio device thread, whose relative sleeps fall behind real time
 * under load (docs/webrtc.md, "Received audio in real time").
 */
class ReceiveClockTest {
  private static final long MS = 1_000_000L;

  @Test
  void receivedAudio_isPulledByTheTransportsClock_notByTheDevicesThread() {
    try (WebRtcTransport server = WebRtcTransport.start(WebRtcConfig.defaults());
        WebRtcTransport client = WebRtcTransport.start(WebRtcConfig.defaults())) {
      Recorder atServer = new Recorder(16_000 * 5);
      Recorder atClient = new Recorder(16_000 * 5);
      WebRtcCall[] serverCall = new WebRtcCall[1];
      WebRtcCall clientCall = client.dial(offer -> {
        serverCall[0] = server.accept(offer).onAudio(atServer);
        return serverCall[0].localDescription();
      }).onAudio(atClient);
      Signals.await(() -> clientCall.state() == State.CONNECTED && serverCall[0].state() == State.CONNECTED,
          Duration.ofSeconds(10), "both sides connected");
      clientCall.send(Signals.tone(440, 16_000, 1000, 8000), 16_000);
      serverCall[0].send(Signals.tone(880, 16_000, 1000, 8000), 16_000);
      Signals.await(() -> atServer.length() > 16_000 && atClient.length() > 16_000, Duration.ofSeconds(10), "1 s received each way");

      for (WebRtcTransport transport : new WebRtcTransport[] {server, client}) {
        assertThat(transport.receiveClock()).as("this build's native library is the one ReceiveClock checks for").isPresent();
        ReceiveClock clock = transport.receiveClock().orElseThrow();
        assertThat(clock.pulls()).isPositive();
        assertThat(clock.devicePulls()).as("the device's own thread must not pull beside the clock").isFalse();
      }
      assertThat(serverCall[0].receivingThread()).isEqualTo("yaad-webrtc-receive");
      assertThat(clientCall.receivingThread()).isEqualTo("yaad-webrtc-receive");
    }
  }

  @Test
  void aLateClock_makesUpWhatItMissed_butSkipsWhatIsTooOld() {
    long next = 1_000 * MS;
    assertThat(ReceiveClock.catchUpFrom(next, next)).isEqualTo(next);
    assertThat(ReceiveClock.catchUpFrom(next + 5 * MS, next)).isEqualTo(next);
    // 150 ms late: the 15 missed pulls are made one after another.
    assertThat(ReceiveClock.catchUpFrom(next + 150 * MS, next)).isEqualTo(next);
    // 2 s late (a stalled process): the whole periods missed are skipped, the phase kept.
    long from = ReceiveClock.catchUpFrom(next + 2_003 * MS, next);
    assertThat(from).isEqualTo(next + 2_000 * MS);
  }
}
