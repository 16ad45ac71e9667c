package dev.yaad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.yaad.testing.SpokenFixtures;
import dev.yaad.webrtc.WebRtcCall;
import dev.yaad.webrtc.WebRtcConfig;
import dev.yaad.webrtc.WebRtcTransport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One benchmark caller's connection to a voice session: audio out at real time, the session's
 * events and reply audio in. {@link Transport} picks how it travels; each transport is one
 * subclass ({@link WebSocketCall}; {@link WebRtcVoiceCall}, whose audio travels on a WebRTC
 * call and whose events stay on the socket).
 */
abstract class VoiceCall implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The RMS above which a received frame is reply audio rather than silence. */
  static final int LOUD = 300;
  /**
   * How far behind its arrival the companion page (web/app.js, {@code JITTER_SECONDS}) starts to
   * play socket audio when its player had run dry, as at a reply's start: a playout buffer a real
   * listener on the socket has, which the raw reading leaves out (VoiceCallTest keeps the two equal).
   */
  static final long PAGE_JITTER_MILLIS = 80;

  /** How callers reach the server. */
  enum Transport { WEBSOCKET, WEBRTC }

  /** Connects, waits for the greeting to end, and starts audio at {@code rate}. */
  static VoiceCall open(Transport transport, int port, String user, String lang, int rate) {
    VoiceCall call = switch (transport) {
      case WEBSOCKET -> new WebSocketCall(port, user, lang);
      case WEBRTC -> new WebRtcVoiceCall(port, user, lang);
    };
    call.until("reply_done", Duration.ofSeconds(30));
    call.startAudio(rate);
    return call;
  }

  /** Asks the session for audio at {@code rate} both ways. */
  void startAudio(int rate) {
    sendJson("{\"type\":\"audio_start\",\"inputRate\":" + rate + ",\"outputRate\":" + rate + "}");
    until("audio_ready", Duration.ofSeconds(10));
  }

  private final LinkedBlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
  private volatile long interruptedNanos; // when the last interrupted arrived
  private volatile long audioAfterInterruptedNanos; // the interrupted reply's last frame after it, if any
  private volatile boolean interruptedReplyAudio; // frames now belong to the interrupted reply (until audio_started)
  private volatile int quietAfterInterrupted; // ms of silence received since interrupted (a call's audio thread)
  private volatile long lastAudioNanos;
  private volatile long playedUntilNanos; // when the reply audio received so far would have played
  private volatile long pagePlayedUntilNanos; // ...on the page's socket player, which starts PAGE_JITTER_MILLIS late
  private volatile long lastEventNanos;
  private volatile long speechEndNanos; // when the caller's last utterance was handed to the transport
  private volatile long firstReplyNanos; // the first reply audio after it
  private volatile long firstReplyPageNanos; // ...as the page's socket player would start to play it (0: as firstReplyNanos)
  private volatile long audioStartedNanos; // the first audio_started after it
  private long nextFrameNanos; // the caller's thread: when the next 20 ms frame is due
  private short[] previousFrame; // a call's audio thread: the frame before this one, and when it was pulled
  private long previousFrameNanos;

  abstract void sendJson(String json);

  abstract void sendAudio(byte[] frame);

  /** Returns once the frames handed to {@link #sendAudio} have entered the transport (the socket: at once). */
  void awaitSent() {}

  /** The transport hands each received event here. */
  final void received(String text) {
    JsonNode event;
    try {
      event = JSON.readTree(text);
    } catch (Exception e) {
      event = JSON.createObjectNode().put("type", "unreadable");
    }
    switch (event.path("type").asText()) {
      case "interrupted" -> {
        interruptedNanos = System.nanoTime();
        audioAfterInterruptedNanos = 0;
        interruptedReplyAudio = true;
        quietAfterInterrupted = 0;
      }
      case "audio_started" -> {
        interruptedReplyAudio = false; // the next reply's audio
        if (speechEndNanos != 0 && audioStartedNanos == 0) {
          audioStartedNanos = System.nanoTime();
        }
      }
      default -> { }
    }
    events.add(event);
  }

  /**
   * ... and each piece of reply audio that arrives as a message (the socket; 16 kHz). Heard end
   * to end ends when the reply's first 20 ms louder than {@link #LOUD} (windows 10 ms apart, the
   * same on every transport) would start to play on a player that plays what arrives in order,
   * each piece when the one before it has played (a browser's): on every transport, the silence
   * a reply starts with (flite's about 120 ms) plays before its speech. Over WebRTC that silence
   * arrives in real time; over the socket it arrives at once with the speech behind it, and
   * counting the loud part's arrival there would make the socket look that much faster than
   * anyone hears it. Any piece counts as audio of an interrupted reply.
   */
  final void receivedAudio(short[] pcm) {
    long now = audioArrived();
    long length = pcm.length * 1_000_000_000L / VoiceBenchmark.RATE;
    long startsPlaying = Math.max(now, playedUntilNanos);
    playedUntilNanos = startsPlaying + length;
    // The page: a player that has run dry starts again PAGE_JITTER_MILLIS after the audio arrived.
    long pageStartsPlaying = pagePlayedUntilNanos - now < 0 ? now + PAGE_JITTER_MILLIS * 1_000_000L : pagePlayedUntilNanos;
    pagePlayedUntilNanos = pageStartsPlaying + length;
    if (speechEndNanos != 0 && firstReplyNanos == 0) {
      for (int at = 0; at < pcm.length; at += STEP) {
        if (loud(Arrays.copyOfRange(pcm, at, Math.min(pcm.length, at + VoiceBenchmark.FRAME)))) {
          long offset = at * 1_000_000_000L / VoiceBenchmark.RATE;
          firstReplyNanos = startsPlaying + offset;
          firstReplyPageNanos = pageStartsPlaying + offset;
          break;
        }
      }
    }
  }

  /**
   * A frame of a call that carries sound all the time (WebRTC: silence between replies), with
   * the moment it was pulled out of the call's jitter buffer, which is when a player (a
   * browser's) starts to play it. The reply is heard where a 20 ms window of two frames (10 ms
   * each) is first loud, at the first one's pull: the rule {@link #receivedAudio} applies. The
   * interrupted reply's audio ends where its silence begins: after {@link #END_OF_REPLY_MS} of
   * silence, loud audio is the next reply's, even if that reply's {@code audio_started} is still
   * queued on the socket behind its text (the audio travels apart from the events, and under load
   * the socket lags. Seen with 10 callers: fresh loud audio 800-1000 ms after {@code interrupted},
   * after a silence, for about 100 ms: by its timing the start of the next reply).
   */
  final void receivedFrame(short[] pcm, long pulledNanos) {
    short[] before = previousFrame;
    long beforeNanos = previousFrameNanos;
    previousFrame = pcm;
    previousFrameNanos = pulledNanos;
    if (loud(pcm)) {
      if (quietAfterInterrupted >= END_OF_REPLY_MS) {
        interruptedReplyAudio = false;
      }
      audioArrived();
    } else if (interruptedReplyAudio) {
      quietAfterInterrupted += pcm.length * 1000 / VoiceBenchmark.RATE;
    }
    if (speechEndNanos != 0 && firstReplyNanos == 0 && before != null && beforeNanos - speechEndNanos >= 0) {
      short[] window = Arrays.copyOf(before, before.length + pcm.length);
      System.arraycopy(pcm, 0, window, before.length, pcm.length);
      if (loud(window)) {
        firstReplyNanos = beforeNanos;
      }
    }
  }

  /** Reply audio arrived now (as an interrupted reply's, while that lasts); returns now. */
  private long audioArrived() {
    long now = System.nanoTime();
    if (interruptedReplyAudio) {
      audioAfterInterruptedNanos = now;
    }
    lastAudioNanos = now;
    return now;
  }

  /** How far apart the 20 ms windows that may be the reply's first loud audio start. */
  static final int STEP = VoiceBenchmark.FRAME / 2;

  /** Silence that ends an interrupted reply on a call (longer than the pauses within speech). */
  static final int END_OF_REPLY_MS = 300;

  /** Louder than RMS {@link #LOUD}. */
  static boolean loud(short[] pcm) {
    long sum = 0;
    for (short s : pcm) {
      sum += (long) s * s;
    }
    return Math.sqrt(sum / (double) Math.max(1, pcm.length)) > LOUD;
  }

  /**
   * From the end of the caller's last utterance (its last frame handed to the transport) to the
   * first reply audio received: end to end as the caller hears it, transport included; -1 if no
   * reply audio came yet.
   */
  double heardEndToEndMs() {
    return firstReplyNanos == 0 ? -1 : (firstReplyNanos - speechEndNanos) / 1e6;
  }

  /**
   * Heard end to end as the companion page would play the reply: over the socket behind the
   * page's playout buffer ({@link #PAGE_JITTER_MILLIS}); over WebRTC the same as
   * {@link #heardEndToEndMs()}, whose pull out of the jitter buffer is already the playout.
   */
  double heardWithPagePlayoutMs() {
    long page = firstReplyPageNanos;
    return firstReplyNanos == 0 ? -1 : ((page != 0 ? page : firstReplyNanos) - speechEndNanos) / 1e6;
  }

  /**
   * From the reply's {@code audio_started} (sent by the server as it hands the reply's first audio
   * to the transport; it travels on the socket) to the reply heard: the reply's leading silence,
   * plus the audio's way down when it travels apart from the event (WebRTC); -1 if unknown.
   */
  double heardAfterAudioStartedMs() {
    long started = audioStartedNanos;
    return firstReplyNanos == 0 || started == 0 ? -1 : (firstReplyNanos - started) / 1e6;
  }

  /**
   * How long the interrupted reply's audio went on arriving after {@code interrupted} (the
   * server's barge-in decision reached the client): 0 if none came after it.
   */
  double audioAfterInterruptedMs() {
    long last = audioAfterInterruptedNanos;
    return last == 0 ? 0 : Math.max(0, last - interruptedNanos) / 1e6;
  }

  /** Streams {@code pcm} in 20 ms frames at real time. */
  void stream(short[] pcm) {
    for (int i = 0; i < pcm.length; i += VoiceBenchmark.FRAME) {
      frame(SpokenFixtures.littleEndian(pcm, i, Math.min(pcm.length, i + VoiceBenchmark.FRAME)));
    }
  }

  /** Streams an utterance whose end (the end of its speech, before its trailing silence) starts the heard end to end. */
  void streamUtterance(short[] pcm, int trailingSilenceSamples) {
    int speechEnd = Math.max(0, pcm.length - trailingSilenceSamples);
    firstReplyNanos = 0;
    firstReplyPageNanos = 0;
    audioStartedNanos = 0;
    speechEndNanos = 0;
    for (int i = 0; i < pcm.length; i += VoiceBenchmark.FRAME) {
      frame(SpokenFixtures.littleEndian(pcm, i, Math.min(pcm.length, i + VoiceBenchmark.FRAME)));
      if (speechEndNanos == 0 && i + VoiceBenchmark.FRAME >= speechEnd) {
        awaitSent();
        speechEndNanos = System.nanoTime();
      }
    }
  }

  void streamSilence(Duration d) {
    byte[] silence = new byte[2 * VoiceBenchmark.FRAME];
    for (long n = d.toMillis() / 20; n > 0; n--) {
      frame(silence);
    }
  }

  /** Streams silence until an event of {@code type} arrives; an {@code error} event or the timeout fails. */
  JsonNode streamSilenceUntil(String type, Duration timeout) {
    byte[] silence = new byte[2 * VoiceBenchmark.FRAME];
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0) {
      JsonNode e;
      while ((e = events.poll()) != null) {
        String t = e.path("type").asText();
        if (t.equals(type)) {
          return e;
        }
        if (t.equals("error")) {
          throw new IllegalStateException("error while waiting for " + type + ": " + e);
        }
      }
      frame(silence);
    }
    throw new IllegalStateException("no " + type + " within " + timeout);
  }

  /** Streams silence until reply audio has been arriving for {@code heard}. */
  void streamSilenceUntilAudio(Duration heard, Duration timeout) {
    byte[] silence = new byte[2 * VoiceBenchmark.FRAME];
    long deadline = System.nanoTime() + timeout.toNanos();
    long start = System.nanoTime();
    while (System.nanoTime() - start < heard.toNanos()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("no reply audio within " + timeout);
      }
      frame(silence);
    }
  }

  /** Waits (sending nothing) for an event of {@code type}. */
  JsonNode until(String type, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        JsonNode e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (e == null) {
          throw new IllegalStateException("no " + type + " within " + timeout);
        }
        String t = e.path("type").asText();
        if (t.equals(type)) {
          return e;
        }
        if (t.equals("error")) {
          throw new IllegalStateException("error while waiting for " + type + ": " + e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Sends one frame when it is due: a microphone's pace, 20 ms a frame. */
  private void frame(byte[] frame) {
    long now = System.nanoTime();
    if (nextFrameNanos == 0 || now - nextFrameNanos > 200_000_000L) {
      nextFrameNanos = now; // start, or a stall of ours: do not burst to catch up
    }
    long wait = nextFrameNanos - now;
    if (wait > 0) {
      LockSupport.parkNanos(wait);
    }
    sendAudio(frame);
    nextFrameNanos += 20_000_000L;
  }

  /** The session WebSocket (the JDK's client). */
  static class WebSocketCall extends VoiceCall implements WebSocket.Listener {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final WebSocket socket;
    private final StringBuilder partial = new StringBuilder();
    private final ByteBuffer binary = ByteBuffer.allocate(1 << 20); // one reply audio message

    WebSocketCall(int port, String user, String lang) {
      socket = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
          .buildAsync(URI.create("ws://127.0.0.1:" + port + "/api/v1/sessions?userId=" + user + "&lang=" + lang), this)
          .join();
    }

    @Override
    void sendJson(String json) {
      socket.sendText(json, true).join();
    }

    @Override
    void sendAudio(byte[] frame) {
      socket.sendBinary(ByteBuffer.wrap(frame), true).join();
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        received(partial.toString());
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      binary.put(data);
      if (last) {
        short[] pcm = new short[binary.position() / 2];
        binary.flip().order(java.nio.ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(pcm);
        binary.clear();
        receivedAudio(pcm);
      }
      ws.request(1);
      return null;
    }

    @Override
    public void close() {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> null).join();
      socket.abort();
    }
  }

  /**
   * The session's audio on a WebRTC call (docs/webrtc.md), offered on the session socket, which
   * keeps carrying the events. The callers share one WebRTC engine ({@link #callers}). Reply
   * audio is a received frame louder than {@link #LOUD} (the call carries silence between replies).
   */
  static final class WebRtcVoiceCall extends WebSocketCall {
    private static WebRtcTransport callers;
    private WebRtcCall call;

    WebRtcVoiceCall(int port, String user, String lang) {
      super(port, user, lang);
    }

    /** The callers' WebRTC engine, started on first use; {@link #closeCallers()} at the end of a run. */
    static synchronized WebRtcTransport callers() {
      if (callers == null) {
        callers = WebRtcTransport.start(WebRtcConfig.defaults());
      }
      return callers;
    }

    static synchronized void closeCallers() {
      if (callers != null) {
        callers.close();
        callers = null;
      }
    }

    @Override
    void startAudio(int rate) {
      call = callers().dial(offer -> {
        sendJson(JSON.createObjectNode().put("type", "webrtc_offer").put("sdp", offer).toString());
        return until("webrtc_answer", Duration.ofSeconds(10)).get("sdp").asText();
      });
      call.onAudio(frame -> { // before waiting: the call's thread holds state changes behind audio with no consumer
        receivedFrame(frame.samples(), frame.receivedNanos()); // the call carries silence between replies
      });
      awaitConnected(call);
    }

    /**
     * Waits until ICE and DTLS are up. A microphone's audio is not queued while a call
     * connects (a browser's track sends nothing until then); frames sent before would wait in
     * the call's send buffer and then play in real time, the whole connect time late, for the
     * rest of the call: every later utterance would reach the server that much later.
     */
    private static void awaitConnected(WebRtcCall call) {
      java.util.concurrent.CompletableFuture<WebRtcCall.State> up = new java.util.concurrent.CompletableFuture<>();
      call.onState(s -> {
        if (s == WebRtcCall.State.CONNECTED || s == WebRtcCall.State.CLOSED) {
          up.complete(s);
        }
      });
      if (call.state() == WebRtcCall.State.CONNECTED) {
        return;
      }
      WebRtcCall.State s = up.orTimeout(30, TimeUnit.SECONDS).join();
      if (s != WebRtcCall.State.CONNECTED) {
        throw new IllegalStateException("the WebRTC call closed before connecting: " + call.closeReason());
      }
    }

    /**
     * Hands a frame to the call, then waits until the call's clock has taken all but one frame:
     * a microphone, whose clock is the sender's. Paced by our own clock alone, a caller that woke
     * late and caught up would leave its catch-up queued behind the silence the call's pacer sent
     * meanwhile, for good: the queue (and every later utterance's latency) grew with each
     * hiccup of this thread, which a browser's microphone track does not do.
     */
    @Override
    void sendAudio(byte[] frame) {
      short[] pcm = new short[frame.length / 2];
      ByteBuffer.wrap(frame).order(java.nio.ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(pcm);
      call.send(pcm, VoiceBenchmark.RATE);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      while (call.queuedMillis() > 20 && System.nanoTime() - deadline < 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(2_000_000L);
      }
    }

    /**
     * The last frame has left the call's send buffer for WebRTC, as a microphone's last 10 ms
     * does when captured (the caller keeps one frame queued ahead of the pacer, which would
     * otherwise count 10-20 ms of queueing in the bench's caller against the transport).
     */
    @Override
    void awaitSent() {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      while (call.queuedMillis() > 0 && System.nanoTime() - deadline < 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(500_000L);
      }
    }

    @Override
    public void close() {
      if (call != null) {
        call.close();
      }
      super.close();
    }
  }

  @Override
  public abstract void close();
}
