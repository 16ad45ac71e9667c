package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebRtcConfigTest {

  @Test
  void defaults_areTheNamedConstants() {
    WebRtcConfig c = WebRtcConfig.defaults();
    assertThat(c.iceServers()).isEmpty();
    assertThat(c.minPort()).isZero();
    assertThat(c.inputSampleRate()).isEqualTo(WebRtcConfig.DEFAULT_INPUT_SAMPLE_RATE);
    assertThat(c.iceGatheringTimeout()).isEqualTo(WebRtcConfig.DEFAULT_ICE_GATHERING_TIMEOUT);
    assertThat(c.sendBufferBytes()).isEqualTo(WebRtcConfig.DEFAULT_SEND_BUFFER_BYTES);
    assertThat(c.receiveBufferBytes()).isEqualTo(WebRtcConfig.DEFAULT_RECEIVE_BUFFER_BYTES);
    assertThat(c.maxCalls()).isEqualTo(WebRtcConfig.DEFAULT_MAX_CALLS);
    assertThat(c.closeTimeout()).isEqualTo(WebRtcConfig.DEFAULT_CLOSE_TIMEOUT);
  }

  @Test
  void builder_refusesBadValues_namingOptionAndValue() {
    assertThatThrownBy(() -> WebRtcConfig.builder().inputSampleRate(44_100)).hasMessageContaining("inputSampleRate").hasMessageContaining("44100");
    assertThatThrownBy(() -> WebRtcConfig.builder().portRange(5000, 4000)).hasMessageContaining("portRange").hasMessageContaining("5000..4000");
    assertThatThrownBy(() -> WebRtcConfig.builder().portRange(0, 10)).hasMessageContaining("portRange");
    assertThatThrownBy(() -> WebRtcConfig.builder().iceGatheringTimeout(Duration.ZERO)).hasMessageContaining("iceGatheringTimeout");
    assertThatThrownBy(() -> WebRtcConfig.builder().sendBufferBytes(100)).hasMessageContaining("sendBufferBytes").hasMessageContaining("100");
    assertThatThrownBy(() -> WebRtcConfig.builder().receiveBufferBytes(10)).hasMessageContaining("receiveBufferBytes");
    assertThatThrownBy(() -> WebRtcConfig.builder().maxCalls(0)).hasMessageContaining("maxCalls");
    assertThatThrownBy(() -> WebRtcConfig.builder().closeTimeout(Duration.ofSeconds(-1))).hasMessageContaining("closeTimeout")
        .hasMessageContaining("PT-1S");
  }

  @Test
  void iceServer_checksSchemesAndTurnCredentials() {
    assertThat(IceServer.stun("stun:stun.example.org:3478").urls()).containsExactly("stun:stun.example.org:3478");
    assertThat(IceServer.turn("turns:turn.example.org:5349?transport=tcp", "u", "p").username()).isEqualTo("u");
    assertThatThrownBy(() -> IceServer.stun("http://example.org")).hasMessageContaining("http://example.org");
    assertThatThrownBy(() -> new IceServer(List.of(), null, null)).hasMessageContaining("at least one URL");
    assertThatThrownBy(() -> IceServer.turn("turn:turn.example.org", "u", "")).hasMessageContaining("username and a credential");
  }

  @Test
  void iceServer_neverPrintsItsCredential() {
    IceServer turn = IceServer.turn("turn:turn.example.org:3478", "alice", "s3cret-credential");
    assertThat(turn.toString()).contains("alice").doesNotContain("s3cret-credential");
    assertThat(WebRtcConfig.builder().iceServers(List.of(turn)).build().toString()).doesNotContain("s3cret-credential");
  }
}
