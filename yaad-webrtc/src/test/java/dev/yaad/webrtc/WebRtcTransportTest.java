package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.webrtc.WebRtcCall.CloseReason;
import dev.yaad.webrtc.WebRtcCall.State;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two real WebRTC peers in one JVM over loopback UDP: a "server" transport that accepts and a
 * "client" transport that dials, each with its own native engine, exactly as a browser and
 * Yaad would talk.
 */
class WebRtcTransportTest {
  private WebRtcTransport server;
  private WebRtcTransport client;

  @BeforeEach
  void start() {
    server = WebRtcTransport.start(WebRtcConfig.builder().disconnectedTimeout(Duration.ofSeconds(2)).build());
    client = WebRtcTransport.start(WebRtcConfig.builder().inputSampleRate(48_000).build());
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  private WebRtcCall[] connect(Recorder atServer, Recorder atClient) {
    WebRtcCall[] serverCall = new WebRtcCall[1];
    WebRtcCall clientCall = client.dial(offer -> {
      serverCall[0] = server.accept(offer).onAudio(atServer);
      return serverCall[0].localDescription();
    }).onAudio(atClient);
    Signals.await(() -> clientCall.state() == State.CONNECTED && serverCall[0].state() == State.CONNECTED,
        Duration.ofSeconds(10), "both sides connected");
    return new WebRtcCall[] {serverCall[0], clientCall};
  }

  @Test
  void sentAudio_arrivesOnceAndClean() {
    Recorder atServer = new Recorder(16_000 * 10);
    Recorder atClient = new Recorder(48_000 * 10);
    WebRtcCall[] calls = connect(atServer, atClient);
    // Queue 2 s each way; each side plays it in real time.
    assertThat(calls[0].send(Signals.tone(440, 24_000, 2000, 8000), 24_000)).isTrue();
    assertThat(calls[1].send(Signals.tone(880, 48_000, 2000, 8000), 48_000)).isTrue();
    Signals.await(() -> calls[0].stats().millisSent() >= 2000 && calls[1].stats().millisSent() >= 2000,
        Duration.ofSeconds(10), "2 s sent each way");
    Signals.await(() -> atClient.length() > 48_000 * 3 && atServer.length() > 16_000 * 3, Duration.ofSeconds(10), "3 s received");

    // The 440 Hz tone reached the client whole: in every 100 ms window of its loudest second
    // the tone is near its sent amplitude (audio fed twice, or garbled, fails this).
    assertThat(atClient.rate()).isEqualTo(48_000);
    assertSteadyTone(atClient.samples(), 440, 48_000, 8000);
    assertThat(atServer.rate()).isEqualTo(16_000);
    assertSteadyTone(atServer.samples(), 880, 16_000, 8000);
    assertThat(calls[0].stats().framesDropped()).isZero();
  }

  @Test
  void opusPackets_are10ms_bothWays() throws Exception {
    WebRtcCall[] calls = connect(new Recorder(16_000 * 10), new Recorder(48_000 * 10));
    assertThat(calls[0].send(Signals.tone(440, 16_000, 1500, 8000), 16_000)).isTrue();
    assertThat(calls[1].send(Signals.tone(880, 16_000, 1500, 8000), 16_000)).isTrue();
    Signals.await(() -> calls[0].stats().millisSent() >= 1500 && calls[1].stats().millisSent() >= 1500,
        Duration.ofSeconds(10), "1.5 s sent each way");
    // Audio handed to each sender's encoder per packet it sent, from one report: 10 ms, or WebRTC's
    // 20 ms. (Samples played per packet received also counted what the jitter buffer concealed or
    // stretched while a loaded machine was late, and the packets it still held.)
    for (WebRtcCall call : calls) {
      java.util.Collection<dev.onvoid.webrtc.RTCStats> report = stats(call);
      java.util.Map<String, Object> source = of(report, dev.onvoid.webrtc.RTCStatsType.MEDIA_SOURCE);
      java.util.Map<String, Object> out = of(report, dev.onvoid.webrtc.RTCStatsType.OUTBOUND_RTP);
      double msPerPacket = 1000 * ((Number) source.get("totalSamplesDuration")).doubleValue() / ((Number) out.get("packetsSent")).doubleValue();
      assertThat(msPerPacket).as("ms of audio per packet sent by %s: %s, %s", call, source, out).isBetween(8.0, 12.0);
    }
  }

  /** WebRTC's {@code inbound-rtp} statistics of the call's audio. */
  static java.util.Map<String, Object> inboundRtp(WebRtcCall call) throws Exception {
    return of(stats(call), dev.onvoid.webrtc.RTCStatsType.INBOUND_RTP);
  }

  /** One report of WebRTC's statistics of the call. */
  private static java.util.Collection<dev.onvoid.webrtc.RTCStats> stats(WebRtcCall call) throws Exception {
    java.lang.reflect.Field f = WebRtcCall.class.getDeclaredField("peer");
    f.setAccessible(true);
    java.util.concurrent.CompletableFuture<dev.onvoid.webrtc.RTCStatsReport> report = new java.util.concurrent.CompletableFuture<>();
    ((dev.onvoid.webrtc.RTCPeerConnection) f.get(call)).getStats(report::complete);
    return report.get(30, TimeUnit.SECONDS).getStats().values();
  }

  /** The statistics of one type in a report (audio is the call's only media). */
  private static java.util.Map<String, Object> of(java.util.Collection<dev.onvoid.webrtc.RTCStats> report, dev.onvoid.webrtc.RTCStatsType type) {
    return report.stream().filter(s -> s.getType() == type).findFirst().orElseThrow().getAttributes();
  }

  /** Finds the tone's onset and checks the following second, window by window. */
  private static void assertSteadyTone(short[] pcm, double hz, int rate, int sentAmplitude) {
    int window = rate / 10;
    int onset = -1;
    for (int w = 0; w + window <= pcm.length; w += window / 4) {
      if (Signals.amplitude(pcm, w, w + window, hz, rate) > sentAmplitude / 2.0) {
        onset = w;
        break;
      }
    }
    assertThat(onset).as("the %s Hz tone never arrived", hz).isGreaterThanOrEqualTo(0);
    int start = onset + window; // skip the codec's ramp-up
    assertThat(pcm.length).isGreaterThanOrEqualTo(start + rate);
    for (int w = start; w + window <= start + rate; w += window) {
      assertThat(Signals.amplitude(pcm, w, w + window, hz, rate)).as("%s Hz amplitude at sample %d", hz, w)
          .isBetween(sentAmplitude * 0.7, sentAmplitude * 1.3);
    }
  }

  @Test
  void closingOneSide_closesTheOtherAsPeerGone() throws Exception {
    WebRtcCall[] calls = connect(new Recorder(1), new Recorder(1));
    List<State> serverStates = new CopyOnWriteArrayList<>();
    calls[0].onState(serverStates::add);
    calls[1].close();
    assertThat(calls[1].closed().get(5, TimeUnit.SECONDS)).isEqualTo(CloseReason.LOCAL);
    assertThat(calls[0].closed().get(20, TimeUnit.SECONDS)).isIn(CloseReason.PEER_GONE, CloseReason.ICE_FAILED);
    Signals.await(() -> serverStates.contains(State.CLOSED), Duration.ofSeconds(5), "the listener hears CLOSED");
    assertThat(serverStates.getLast()).isEqualTo(State.CLOSED);
    assertThat(server.openCalls()).isZero();
    assertThat(client.openCalls()).isZero();
  }

  @Test
  void accept_refusesBadOffers_withReasonAndNothingLeftOpen() {
    assertThatThrownBy(() -> server.accept("")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
    assertThatThrownBy(() -> server.accept("hello")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("v=0");
    assertThatThrownBy(() -> server.accept("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"))
        .isInstanceOf(WebRtcException.class).hasMessageContaining("no audio");
    // Looks like SDP with audio, but WebRTC refuses it: its reason comes through.
    assertThatThrownBy(() -> server.accept("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"))
        .isInstanceOf(WebRtcException.class).hasMessageContaining("applying the offer failed");
    assertThat(server.openCalls()).isZero();
  }

  @Test
  void accept_refusesBeyondMaxCalls() {
    try (WebRtcTransport small = WebRtcTransport.start(WebRtcConfig.builder().maxCalls(1).build())) {
      WebRtcCall first = client.dial(offer -> small.accept(offer).localDescription());
      assertThatThrownBy(() -> client.dial(offer -> small.accept(offer).localDescription()))
          .isInstanceOf(WebRtcException.class).hasMessageContaining("maxCalls").hasMessageContaining("1");
      assertThat(small.openCalls()).isEqualTo(1);
      assertThat(client.openCalls()).as("the refused dial released its call").isEqualTo(1);
      first.close();
    }
  }

  @Test
  void send_refusesPastTheBuffer_andClearSendDropsWhatIsQueued() {
    try (WebRtcTransport small = WebRtcTransport.start(WebRtcConfig.builder().sendBufferBytes(32_000).build())) {
      // Checked before the dialler has the answer, so the call cannot be connected yet and the
      // pacer leaves its queue alone (audio queued before the connection waits): once connected,
      // the pacer takes 10 ms every 10 ms and the exact limit is no longer there to see.
      WebRtcCall call = client.dial(offer -> {
        WebRtcCall serverSide = small.accept(offer);
        assertThat(serverSide.state()).isNotEqualTo(State.CONNECTED);
        assertThat(serverSide.send(new short[16_000], 16_000)).as("1 s at 16 kHz is exactly 32000 bytes").isTrue();
        assertThat(serverSide.send(new short[160], 16_000)).isFalse();
        assertThat(serverSide.queuedMillis()).isEqualTo(1000);
        assertThat(serverSide.clearSend()).isEqualTo(1000);
        assertThat(serverSide.queuedMillis()).isZero();
        assertThatThrownBy(() -> serverSide.send(new short[10], 44_110)).hasMessageContaining("44110");
        return serverSide.localDescription();
      });
      call.close();
    }
  }

  @Test
  void close_fromAListener_isCleanAndIdempotent() throws Exception {
    WebRtcCall[] calls = connect(new Recorder(1), new Recorder(1));
    WebRtcCall serverCall = calls[0];
    serverCall.onAudio(frame -> serverCall.close()); // on the call's own thread
    assertThat(serverCall.closed().get(5, TimeUnit.SECONDS)).isEqualTo(CloseReason.LOCAL);
    serverCall.close();
    assertThat(serverCall.state()).isEqualTo(State.CLOSED);
    assertThat(serverCall.send(new short[160], 16_000)).as("a closed call takes no audio").isFalse();
    serverCall.addRemoteCandidate("0", 0, "candidate:1 1 udp 1 127.0.0.1 9 typ host"); // ignored, no crash
    assertThat(server.openCalls()).isZero();
  }

  @Test
  void transportClose_closesItsCallsMidSentence() throws Exception {
    WebRtcCall[] calls = connect(new Recorder(1), new Recorder(1));
    calls[0].send(Signals.tone(300, 16_000, 5000, 6000), 16_000);
    Signals.await(() -> calls[0].stats().millisSent() > 200, Duration.ofSeconds(5), "the sentence started");
    server.close();
    assertThat(calls[0].closed().get(5, TimeUnit.SECONDS)).isEqualTo(CloseReason.TRANSPORT_CLOSED);
    assertThatThrownBy(() -> server.accept("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"))
        .isInstanceOf(WebRtcException.class).hasMessageContaining("closed");
    server.close(); // idempotent
  }

  @Test
  void addRemoteCandidate_refusesGarbage_andTheCallLivesOn() {
    WebRtcCall[] calls = connect(new Recorder(1), new Recorder(1));
    assertThatThrownBy(() -> calls[0].addRemoteCandidate("0", 0, "not a candidate"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a candidate");
    assertThatThrownBy(() -> calls[0].addRemoteCandidate("0", 0, " ")).isInstanceOf(IllegalArgumentException.class);
    calls[0].addRemoteCandidate("0", 0, "candidate:1 1 udp 2122260223 192.0.2.77 50000 typ host"); // a valid one is taken
    assertThat(calls[0].state()).isEqualTo(State.CONNECTED);
  }

  /**
   * Everything a server does from virtual threads (accept in a handler, candidates, close from
   * the call's own listener) runs WebRTC's blocking native steps on platform threads: a JNI call
   * pins its carrier, and a burst of setups once froze every virtual thread for seconds. The
   * native steps assert this (tests run with assertions on).
   */
  @Test
  void callsDrivenFromVirtualThreads_neverRunNativeStepsOnThem() throws Exception {
    java.util.List<java.util.concurrent.Future<WebRtcCall>> dialled = new java.util.ArrayList<>();
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 4; i++) {
        dialled.add(threads.submit(() -> client.dial(offer -> {
          WebRtcCall accepted = server.accept(offer);
          accepted.onAudio(frame -> accepted.close()); // a native release from the call's own (virtual) thread
          return accepted.localDescription();
        })));
      }
      for (var future : dialled) {
        WebRtcCall call = future.get(30, TimeUnit.SECONDS);
        threads.submit(() -> call.addRemoteCandidate("0", 0, "candidate:1 1 udp 2122260223 192.0.2.77 50000 typ host")).get();
      }
    }
    Signals.await(() -> server.openCalls() == 0, Duration.ofSeconds(10), "every server call closed itself");
    for (var future : dialled) {
      future.get().close();
    }
    assertThat(WebRtcTransportTest.class.desiredAssertionStatus()).as("assertions are on").isTrue();
  }

  /**
   * webrtc-java 0.14.0's close() forgets the peer connection without releasing it; the call
   * drops that reference itself, and it must be the last one: the native peer connection is
   * freed, on both sides, for calls that connected and for setups that failed.
   */
  @Test
  void closedCalls_freeTheirNativePeerConnections() throws Exception {
    assertThat(NativeRefs.needed()).as("webrtc-java %s leaks on close", NativeRefs.version()).isTrue();
    WebRtcCall[] calls = connect(new Recorder(1), new Recorder(1));
    calls[0].send(Signals.tone(300, 16_000, 1000, 6000), 16_000);
    calls[0].close();
    calls[1].close();
    assertThatThrownBy(() -> server.accept("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")).isInstanceOf(WebRtcException.class);
    assertThat(server.peersFreed()).as("server peer connections freed").isEqualTo(2);
    assertThat(client.peersFreed()).as("client peer connections freed").isEqualTo(1);
    assertThat(server.peersStillReferenced() + client.peersStillReferenced()).isZero();
  }

  /**
   * A close whose native part never finishes (here: WebRTC's signalling thread is held in a
   * callback, the state the one hung benchmark showed) returns after closeTimeout, counts the
   * abandoned objects, and the transport's own close does not hang on them either.
   */
  @Test
  void close_whoseNativeTeardownNeverFinishes_returnsAfterCloseTimeout() throws Exception {
    try (WebRtcTransport stuck = WebRtcTransport.start(WebRtcConfig.builder().closeTimeout(Duration.ofMillis(300)).build())) {
      WebRtcCall[] callee = new WebRtcCall[1];
      WebRtcCall caller = client.dial(offer -> {
        callee[0] = stuck.accept(offer);
        return callee[0].localDescription();
      });
      Signals.await(() -> callee[0].state() == State.CONNECTED, Duration.ofSeconds(10), "connected");
      try (SignallingThreadBlocker blocked = SignallingThreadBlocker.block(stuck)) {
        java.util.concurrent.CompletableFuture<Void> closing = java.util.concurrent.CompletableFuture.runAsync(callee[0]::close);
        closing.get(30, TimeUnit.SECONDS); // without the bound: never
        assertThat(callee[0].state()).isEqualTo(State.CLOSED);
        assertThat(callee[0].closed()).isCompletedWithValue(CloseReason.LOCAL);
        assertThat(stuck.abandonedCloses()).isEqualTo(1);
        assertThat(stuck.openCalls()).isZero();
        java.util.concurrent.CompletableFuture.runAsync(stuck::close).get(30, TimeUnit.SECONDS);
        assertThatThrownBy(() -> stuck.accept("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")).hasMessageContaining("closed");
      }
      caller.close();
    }
  }

  /**
   * WebRTC makes its audio threads real-time where it may (here: as root); under overload they
   * starved the threads every close must pass through, for minutes. After setup none is left.
   */
  @Test
  void noThreadRunsRealtime_afterCallsAreSetUp() {
    connect(new Recorder(1), new Recorder(1));
    connect(new Recorder(1), new Recorder(1));
    assertThat(RealtimeThreads.count()).as("threads under SCHED_FIFO/SCHED_RR").isZero();
  }

  /**
   * Received audio is pulled out of WebRTC by the transport's own clock (ReceiveClock), not by
   * webrtc-java's headless device thread, whose relative sleeps fall behind real time under
   * load (docs/webrtc.md, "Received audio in real time").
   */
  @Test
  void receivedAudio_isPulledByTheTransportsClock_notByTheDevicesThread() {
    Recorder atServer = new Recorder(16_000 * 5);
    Recorder atClient = new Recorder(48_000 * 5);
    WebRtcCall[] calls = connect(atServer, atClient);
    calls[0].send(Signals.tone(880, 16_000, 1000, 8000), 16_000);
    calls[1].send(Signals.tone(440, 16_000, 1000, 8000), 16_000);
    Signals.await(() -> atServer.length() > 16_000 && atClient.length() > 48_000, Duration.ofSeconds(10), "1 s received each way");
    for (WebRtcTransport transport : List.of(server, client)) {
      assertThat(transport.receiveClock()).as("this build's native library is the one ReceiveClock checks for").isPresent();
      ReceiveClock clock = transport.receiveClock().orElseThrow();
      assertThat(clock.pulls()).isPositive();
      assertThat(clock.devicePulls()).as("the device's own thread must not pull beside the clock").isFalse();
    }
    assertThat(calls[0].receivingThread()).isEqualTo("yaad-webrtc-receive");
    assertThat(calls[1].receivingThread()).isEqualTo("yaad-webrtc-receive");
  }

  @Test
  void dial_whoseSignallingFails_releasesItsCall() {
    assertThatThrownBy(() -> client.dial(offer -> { throw new IllegalStateException("no route to the server"); }))
        .hasMessageContaining("no route to the server");
    assertThatThrownBy(() -> client.dial(offer -> "")).isInstanceOf(WebRtcException.class).hasMessageContaining("no answer");
    assertThat(client.openCalls()).isZero();
  }
}
