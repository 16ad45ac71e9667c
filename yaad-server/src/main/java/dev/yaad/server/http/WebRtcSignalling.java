package dev.yaad.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.voice.VoiceSession;
import dev.yaad.webrtc.WebRtcCall;
import dev.yaad.webrtc.WebRtcConfig;
import dev.yaad.webrtc.WebRtcException;
import dev.yaad.webrtc.WebRtcTransport;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WebRTC audio for the session endpoint ({@code docs/webrtc.md}, "Calls on the session
 * socket"): one {@link WebRtcTransport} for the server, at most one call per session. The
 * signalling travels on the session's own WebSocket, so a call is authenticated exactly as the
 * session it belongs to and ends with it: the client sends {@code webrtc_offer} (and may trickle
 * {@code webrtc_candidate}s), the server answers {@code webrtc_answer} with every candidate of
 * its side inside, and {@code webrtc_hangup} or the session's end closes the call. The call's
 * audio feeds the session's voice pipeline, and the pipeline's speech goes out on the call
 * ({@link CallAudio}); events (transcripts, replies, metrics) stay on the WebSocket.
 *
 * <p>Everything a socket asks of its call runs in order on one virtual thread of that socket
 * ({@link Peer}), never on Jetty's: answering an offer waits for ICE gathering (up to 2 s),
 * and closing a call for WebRTC's teardown.
 */
public final class WebRtcSignalling implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebRtcSignalling.class);
  /** The longest offer accepted (a browser's audio offer is 2 to 6 KB). */
  static final int MAX_SDP_CHARS = 32 * 1024;
  static final int MAX_CANDIDATE_CHARS = 1024;

  private final WebRtcTransport transport;
  /** Peers that have (had) a call: at shutdown their own closes finish before the engine goes. */
  private final Set<Peer> peers = ConcurrentHashMap.newKeySet();
  private final String unavailableCode;
  private final String unavailable;

  private WebRtcSignalling(WebRtcTransport transport, String unavailableCode, String unavailable) {
    this.transport = transport;
    this.unavailableCode = unavailableCode;
    this.unavailable = unavailable;
  }

  /**
   * Starts the transport, or returns signalling that refuses every offer, saying why, when
   * {@code config} is {@code null} ({@code --webrtc off}) or the native engine does not start
   * (a missing system library: the server then runs without WebRTC, and logs it once).
   */
  public static WebRtcSignalling start(WebRtcConfig config, MeterRegistry registry) {
    if (config == null) {
      return off("webrtc_unavailable", "WebRTC is off on this server (--webrtc off); stream audio over the WebSocket instead");
    }
    try {
      WebRtcTransport transport = WebRtcTransport.start(config);
      transport.bindTo(registry);
      log.info("webrtc: on ({})", config.iceServers().isEmpty() ? "host candidates only, no STUN/TURN"
          : config.iceServers().size() + " ICE server(s)");
      return new WebRtcSignalling(transport, null, null);
    } catch (WebRtcException | LinkageError e) {
      log.warn("webrtc: off, the engine did not start: {}", e.getMessage());
      return off("webrtc_unavailable", "WebRTC did not start on this server (" + e.getMessage() + "); stream audio over the"
          + " WebSocket instead");
    }
  }

  /** Signalling that refuses every offer with an {@code error} event of this code and message. */
  public static WebRtcSignalling off(String code, String reason) {
    return new WebRtcSignalling(null, code, reason);
  }

  /** Whether offers are answered (the page then prefers WebRTC for server voice). */
  public boolean available() {
    return transport != null;
  }

  /**
   * The STUN servers of this server's configuration, for the page's own ICE gathering (as
   * {@code RTCIceServer}s). TURN servers are not listed: their credentials are not for an
   * unauthenticated {@code /api/v1/config}, and the server's relay candidates already reach
   * browsers behind NAT.
   */
  public List<Map<String, Object>> browserIceServers() {
    if (transport == null) {
      return List.of();
    }
    return transport.config().iceServers().stream().filter(s -> s.username() == null)
        .map(s -> Map.<String, Object>of("urls", s.urls())).toList();
  }

  /**
   * Closes every call, then the native engine. The sessions have begun closing theirs (their
   * sockets closed): those closes finish first, each bounded by the transport's close timeout.
   */
  @Override
  public void close() {
    if (transport == null) {
      return;
    }
    long deadline = System.nanoTime() + transport.config().closeTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1);
    for (Peer peer : List.copyOf(peers)) {
      peer.close();
      peer.awaitClosed(deadline);
    }
    transport.close();
  }

  /** What a call needs from the session socket it belongs to. */
  interface Socket {
    /** Queues one message to the client; never blocks. */
    void send(String json);

    /**
     * Starts the session's voice pipeline with this mouth.
     *
     * @param inRate the rate of the PCM the pipeline will be given
     * @return where the caller's audio goes
     * @throws IllegalStateException saying why there is no voice (no speech engines, audio already
     *     streaming over the WebSocket, the session not active)
     */
    VoiceSession listen(CallAudio out, int inRate);
  }

  Peer peer(Socket socket, String connectionId) {
    return new Peer(socket, connectionId);
  }

  /** One session socket's side: its call, if any, and the thread its signalling runs on. */
  final class Peer {
    private final Socket socket;
    private final String connectionId;
    private ExecutorService worker; // created on the first message; guarded by this
    private boolean closed; // guarded by this
    // Written on the worker only.
    private volatile WebRtcCall call;
    private VoiceSession listening;

    private Peer(Socket socket, String connectionId) {
      this.socket = socket;
      this.connectionId = connectionId;
    }

    /** A {@code webrtc_*} message from the client (on Jetty's thread): checked here, carried out in order on the worker. */
    void received(String type, JsonNode message) {
      switch (type) {
        case "webrtc_offer" -> {
          if (transport == null) {
            socket.send(SessionMessages.error(unavailableCode, unavailable));
            return;
          }
          JsonNode sdp = message.get("sdp");
          if (sdp == null || !sdp.isTextual() || sdp.asText().isBlank()) {
            socket.send(SessionMessages.error("invalid_message", "webrtc_offer needs 'sdp', the offer's SDP text"));
            return;
          }
          if (sdp.asText().length() > MAX_SDP_CHARS) {
            socket.send(SessionMessages.error("too_large", "'sdp' is " + sdp.asText().length() + " characters; the limit is "
                + MAX_SDP_CHARS));
            return;
          }
          run(() -> offer(sdp.asText()));
        }
        case "webrtc_candidate" -> {
          JsonNode candidate = message.get("candidate");
          if (candidate == null || candidate.isNull() || candidate.isTextual() && candidate.asText().isEmpty()) {
            return; // end of candidates: nothing to do
          }
          JsonNode mid = message.get("sdpMid");
          JsonNode index = message.get("sdpMLineIndex");
          if (!candidate.isTextual() || candidate.asText().length() > MAX_CANDIDATE_CHARS || mid != null && !mid.isNull()
              && !mid.isTextual() || index != null && !index.isNull() && !index.canConvertToInt()) {
            socket.send(SessionMessages.error("invalid_message", "webrtc_candidate needs 'candidate' (a string of at most "
                + MAX_CANDIDATE_CHARS + " characters), 'sdpMid' (a string) and 'sdpMLineIndex' (a number), as in the"
                + " browser's icecandidate event"));
            return;
          }
          String sdpMid = mid == null || mid.isNull() ? null : mid.asText();
          int mLine = index == null || index.isNull() ? 0 : index.asInt();
          run(() -> candidate(sdpMid, mLine, candidate.asText()));
        }
        case "webrtc_hangup" -> run(this::hangUp);
        default -> throw new IllegalArgumentException("not a webrtc message: " + type);
      }
    }

    /** Whether a call is open (its voice pipeline is the session's). */
    boolean inCall() {
      return call != null;
    }

    /** The session ended: the call ends too (on the worker: closing waits for WebRTC). */
    void close() {
      ExecutorService w;
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        w = worker;
      }
      if (w != null) {
        w.execute(this::hangUp);
        w.execute(() -> peers.remove(this));
        w.shutdown();
      }
    }

    /** Waits until the worker has done all it was given (the call's close included), at most until {@code deadline}. */
    void awaitClosed(long deadline) {
      ExecutorService w;
      synchronized (this) {
        w = worker;
      }
      if (w == null) {
        return;
      }
      try {
        w.awaitTermination(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void run(Runnable task) {
      synchronized (this) {
        if (closed) {
          return;
        }
        if (worker == null) {
          worker = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("yaad-webrtc-signalling-" + connectionId).factory());
          peers.add(this);
        }
        try {
          worker.execute(task);
        } catch (RejectedExecutionException e) {
          // closed meanwhile
        }
      }
    }

    private void offer(String sdp) {
      if (call != null) {
        socket.send(SessionMessages.error("invalid_message", "this session has a call already; send webrtc_hangup first"));
        return;
      }
      WebRtcCall opened;
      try {
        opened = transport.accept(sdp);
      } catch (IllegalArgumentException e) {
        socket.send(SessionMessages.error("invalid_message", "webrtc_offer: " + e.getMessage()));
        return;
      } catch (WebRtcException e) {
        socket.send(SessionMessages.error("webrtc_failed", "the offer was not accepted: " + e.getMessage()));
        return;
      }
      CallAudio mouth = new CallAudio(opened, CallAudio.OUTPUT_RATE);
      VoiceSession ear;
      try {
        ear = socket.listen(mouth, transport.config().inputSampleRate());
      } catch (IllegalStateException e) {
        opened.close();
        socket.send(SessionMessages.error("voice_unavailable", e.getMessage()));
        return;
      }
      call = opened;
      listening = ear;
      opened.onAudio(frame -> ear.accept(frame.samples()));
      opened.onState(state -> {
        if (state == WebRtcCall.State.CLOSED) {
          run(() -> ended(opened));
        }
      });
      socket.send(SessionMessages.webrtcAnswer(opened.id(), opened.localDescription()));
      log.info("webrtc: connection={} call={} answered", connectionId, opened.id());
    }

    private void candidate(String sdpMid, int mLine, String candidate) {
      if (call == null) {
        socket.send(SessionMessages.error("invalid_message", "webrtc_candidate before webrtc_offer: send the offer first"));
        return;
      }
      try {
        call.addRemoteCandidate(sdpMid, mLine, candidate);
      } catch (IllegalArgumentException e) {
        socket.send(SessionMessages.error("invalid_message", "webrtc_candidate: " + e.getMessage()));
      }
    }

    private void hangUp() {
      WebRtcCall c = call;
      if (c != null) {
        c.close();
        ended(c);
      }
    }

    /** The call closed (hangup, the session's end, or on its own: the peer vanished, ICE failed). */
    private void ended(WebRtcCall c) {
      if (call != c) {
        return; // already handled
      }
      call = null;
      VoiceSession ear = listening;
      listening = null;
      if (ear != null) {
        ear.close();
      }
      String reason = c.closeReason() == null ? "local" : c.closeReason().name().toLowerCase(Locale.ROOT);
      socket.send(SessionMessages.webrtcEnded(c.id(), reason));
      log.info("webrtc: connection={} call={} ended reason={} heard_ms={} sent_ms={}", connectionId, c.id(), reason,
          c.stats().millisReceived(), c.stats().millisSent());
    }
  }
}
