package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SdpTest {
  private static final String OFFER = String.join("\r\n",
      "v=0",
      "o=- 1 2 IN IP4 127.0.0.1",
      "s=-",
      "t=0 0",
      "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
      "c=IN IP4 0.0.0.0",
      "a=rtpmap:111 opus/48000/2",
      "a=fmtp:111 minptime=10;useinbandfec=1",
      "a=ptime:20",
      "m=video 9 UDP/TLS/RTP/SAVPF 96",
      "a=ptime:33",
      "m=audio 9 UDP/TLS/RTP/SAVPF 111",
      "a=rtpmap:111 opus/48000/2",
      "");

  @Test
  void everyAudioSection_getsOnePtime_andNothingElseChanges() {
    String munged = Sdp.withPtime(OFFER, 10);
    assertThat(munged).isEqualTo(String.join("\r\n",
        "v=0",
        "o=- 1 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
        "c=IN IP4 0.0.0.0",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=ptime:10",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "a=ptime:33",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "a=rtpmap:111 opus/48000/2",
        "a=ptime:10",
        ""));
    assertThat(Sdp.withPtime(munged, 10)).as("applying it twice changes nothing").isEqualTo(munged);
  }

  @Test
  void lineEndingsAreKept_withOrWithoutAFinalOne() {
    assertThat(Sdp.withPtime("v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000", 20))
        .isEqualTo("v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=ptime:20");
    assertThat(Sdp.withPtime("v=0\r\nm=audio 9 RTP/AVP 0\r\n", 10)).isEqualTo("v=0\r\nm=audio 9 RTP/AVP 0\r\na=ptime:10\r\n");
    assertThat(Sdp.withPtime("v=0\r\ns=-\r\n", 10)).as("no audio section").isEqualTo("v=0\r\ns=-\r\n");
  }
}
