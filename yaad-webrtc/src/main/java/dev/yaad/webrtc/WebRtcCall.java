package dev.yaad.webrtc;

import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCAnswerOptions;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCIceGatheringState;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import dev.onvoid.webrtc.RTCRtpSender;
import dev.onvoid.webrtc.RTCRtpTransceiver;
import dev.onvoid.webrtc.RTCRtpTransceiverDirection;
import dev.onvoid.webrtc.RTCRtpTransceiverInit;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import dev.onvoid.webrtc.media.MediaStreamTrack;
import dev.onvoid.webrtc.media.audio.AudioTrack;
import dev.onvoid.webrtc.media.audio.AudioTrackSink;
import dev.onvoid.webrtc.media.audio.CustomAudioSource;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One peer-to-peer audio call: the caller's voice comes in as {@link PcmFrame}s, the
 * companion's goes out from {@link #send}. Made by {@link WebRtcTransport#accept} (the browser
 * offers, Yaad answers) or {@link WebRtcTransport#dial} (Yaad offers: clients, tests, benchmarks).
 *
 * <h2>Audio in</h2>
 * {@link #onAudio} receives 10 ms mono frames at the transport's input rate (16 kHz by default,
 * or 48 kHz), in order, on one thread of the call's own (a virtual thread), never on a native
 * WebRTC thread. Frames that arrive before a consumer is set wait for it. A consumer that
 * falls behind (or is not set) by more than {@link WebRtcConfig#receiveBufferBytes()} loses the
 * newest frames (counted in {@link Stats#framesDropped()}); WebRTC itself is never blocked.
 *
 * <h2>Audio out</h2>
 * {@link #send} queues 16-bit mono PCM at 8 to 48 kHz (any rate that is a whole number of
 * samples per 10 ms); the transport's pacer hands it to WebRTC 10 ms at a time in real time
 * from the moment the call connects, and silence when nothing is queued, so the browser's
 * jitter buffer never starves. WebRTC resamples and encodes it as Opus. {@link #clearSend()}
 * drops what is queued (barge-in) and says how much that was.
 *
 * <h2>Lifecycle</h2>
 * {@link State#CONNECTING} until ICE and DTLS are up, then {@link State#CONNECTED};
 * {@link State#DISCONNECTED} while the peer does not answer ICE checks (a network blip or a
 * vanished peer); {@link State#CLOSED} at the end, for the {@link CloseReason} in
 * {@link #closeReason()}. A call that does not connect within
 * {@link WebRtcConfig#connectTimeout()} or stays disconnected for
 * {@link WebRtcConfig#disconnectedTimeout()} closes itself. {@link #close()} is idempotent,
 * may be called from any thread (including from a listener) at any moment, and releases the
 * call's native resources before it returns. Listeners run on the call's thread, in order;
 * {@link State#CLOSED} is the last thing they see.
 */
public final class WebRtcCall implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebRtcCall.class);
  private static final int MAX_SEND_RATE = 48_000;
  private static final Object END = new Object();

  /** Where a call is; see the class documentation. */
  public enum State { CONNECTING, CONNECTED, DISCONNECTED, CLOSED }

  /** Why a call ended. */
  public enum CloseReason {
    /** {@link WebRtcCall#close()} was called. */
    LOCAL,
    /** The transport was closed with the call still open. */
    TRANSPORT_CLOSED,
    /** The offer/answer exchange failed (the exception thrown by accept or dial says why). */
    SETUP_FAILED,
    /** The call did not connect within {@link WebRtcConfig#connectTimeout()}. */
    CONNECT_TIMEOUT,
    /** ICE failed: no path to the peer. */
    ICE_FAILED,
    /** The peer stopped answering for {@link WebRtcConfig#disconnectedTimeout()}, or closed its side. */
    PEER_GONE
  }

  /**
   * What a call has carried so far.
   *
   * @param millisReceived caller audio delivered to the consumer, in ms
   * @param framesDropped caller frames dropped because the consumer fell behind (or was never set)
   * @param millisSent audio from {@link #send} handed to WebRTC, in ms (silence not counted)
   * @param millisQueued audio from {@link #send} still waiting, in ms
   */
  public record Stats(long millisReceived, long framesDropped, long millisSent, long millisQueued) {}

  private final WebRtcTransport transport;
  private final WebRtcConfig config;
  private final String id;
  private final long startedNanos = System.nanoTime();
  /** Held around every native call on this call's objects; never taken on a native thread. */
  private final Object nativeLock = new Object();
  /** Guards state transitions only; never held across a native call. */
  private final Object stateLock = new Object();

  // Native objects, touched only under nativeLock (and by the teardown, once it took them from there).
  private RTCPeerConnection peer;
  /** The peer connection's native pointer, read before close() makes the library forget it (see NativeRefs). */
  private long peerHandle;
  private CustomAudioSource source;
  private AudioTrack localTrack;
  private RTCRtpSender sender;
  private AudioTrack remoteTrack;
  private boolean released;

  private volatile State state = State.CONNECTING;
  private volatile CloseReason closeReason;
  /** Set (under stateLock) when close begins; read without it by the audio threads. */
  private volatile boolean closing;
  private ScheduledFuture<?> timer;
  private volatile String localDescription;
  private final CompletableFuture<Void> gathered = new CompletableFuture<>();
  private final Set<CompletableFuture<?>> pending = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();

  // Audio in: the sink runs on WebRTC's audio thread and only converts and enqueues.
  private final AudioTrackSink sink = this::onNativeAudio;
  private final Inbound inbound;
  private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
  private final AtomicLong queuedInBytes = new AtomicLong();
  private final AtomicLong framesDropped = new AtomicLong();
  private final AtomicLong millisReceived = new AtomicLong();
  private volatile Consumer<PcmFrame> audioConsumer;
  /** The thread that delivered received audio first (the transport's receive clock): for tests. */
  private volatile String receivingThread;
  private final java.util.concurrent.CountDownLatch consumerSet = new java.util.concurrent.CountDownLatch(1);
  private final List<Consumer<State>> stateListeners = new CopyOnWriteArrayList<>();
  private final Thread dispatcher;

  // Audio out: filled by send(), drained by the transport's pacer thread alone.
  private final SendBuffer sendBuffer;
  private final short[] chunk = new short[MAX_SEND_RATE / 100];
  private final byte[] chunkBytes = new byte[MAX_SEND_RATE / 100 * 2];
  private final AtomicLong millisSent = new AtomicLong();

  WebRtcCall(WebRtcTransport transport, String id) {
    this.transport = transport;
    this.config = transport.config();
    this.id = id;
    this.sendBuffer = new SendBuffer(config.sendBufferBytes());
    this.inbound = new Inbound(config.inputSampleRate(), this::enqueue);
    this.dispatcher = Thread.ofVirtual().name("yaad-webrtc-call-" + id).unstarted(this::dispatch);
  }

  /** A short id for logs and lookups, unique within the transport. */
  public String id() {
    return id;
  }

  /**
   * This side's session description with every ICE candidate gathered: the answer for a call
   * from {@link WebRtcTransport#accept}, the offer for one from {@link WebRtcTransport#dial}.
   */
  public String localDescription() {
    return localDescription;
  }

  public State state() {
    return state;
  }

  /** Why the call closed; {@code null} while it is open. */
  public CloseReason closeReason() {
    return closeReason;
  }

  /**
   * Completes with the reason once the call is closed and its native resources are released
   * (or abandoned after {@link WebRtcConfig#closeTimeout()}, see {@link #close()}).
   */
  public CompletableFuture<CloseReason> closed() {
    return closed.copy();
  }

  /**
   * Sets the consumer of the caller's audio (replacing any earlier one). It runs on the call's
   * own thread; it may block briefly, but audio queues up behind it (see the class notes).
   */
  public WebRtcCall onAudio(Consumer<PcmFrame> consumer) {
    this.audioConsumer = Objects.requireNonNull(consumer, "consumer");
    consumerSet.countDown();
    return this;
  }

  /** Adds a listener for state changes, called on the call's thread in order; CLOSED comes last. */
  public WebRtcCall onState(Consumer<State> listener) {
    stateListeners.add(Objects.requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * A remote ICE candidate trickled after the offer (the {@code candidate}, {@code sdpMid} and
   * {@code sdpMLineIndex} of the browser's {@code icecandidate} event). Offers that already
   * carry their candidates (gathering complete before sending) need none. Ignored once closed.
   *
   * @throws IllegalArgumentException if the candidate is blank or WebRTC cannot parse it
   */
  public void addRemoteCandidate(String sdpMid, int sdpMLineIndex, String candidate) {
    if (candidate == null || candidate.isBlank()) {
      throw new IllegalArgumentException("candidate must not be blank (an end-of-candidates marker needs no call)");
    }
    onNative(() -> {
      if (!released && peer != null) {
        try {
          peer.addIceCandidate(new RTCIceCandidate(sdpMid, sdpMLineIndex, candidate));
        } catch (Error e) { // webrtc-java's way of saying the candidate did not parse
          throw new IllegalArgumentException("WebRTC refused the candidate '" + candidate + "': " + e.getMessage(), e);
        }
      }
    });
  }

  /**
   * Queues reply audio: 16-bit signed mono PCM at {@code sampleRate}. It plays after what is
   * already queued, in real time once the call is connected (audio queued before that waits).
   *
   * @return false, queueing nothing, if the call is closed or the audio would take the queue
   *     past {@link WebRtcConfig#sendBufferBytes()}; wait for {@link #queuedMillis()} to fall
   * @throws IllegalArgumentException if the rate is not 8000 to 48000 Hz in steps of 100 Hz
   */
  public boolean send(short[] pcm, int sampleRate) {
    Objects.requireNonNull(pcm, "pcm");
    if (sampleRate < 8_000 || sampleRate > MAX_SEND_RATE || sampleRate % 100 != 0) {
      throw new IllegalArgumentException("sampleRate must be 8000..48000 Hz in steps of 100 Hz, got " + sampleRate);
    }
    return state != State.CLOSED && sendBuffer.offer(pcm, sampleRate);
  }

  /**
   * Drops the reply audio not yet handed to WebRTC (barge-in). What WebRTC already has (one
   * 10 ms chunk, plus the network and the browser's jitter buffer) still plays.
   *
   * @return how many ms of audio were dropped
   */
  public long clearSend() {
    return sendBuffer.clear();
  }

  /** Reply audio queued and not yet handed to WebRTC, in ms. */
  public long queuedMillis() {
    return sendBuffer.queuedMillis();
  }

  /** The name of the thread that delivered this call's received audio, or null before any arrived. */
  String receivingThread() {
    return receivingThread;
  }

  public Stats stats() {
    return new Stats(millisReceived.get(), framesDropped.get(), millisSent.get(), sendBuffer.queuedMillis());
  }

  /**
   * Ends the call and releases its native resources; idempotent, any thread. WebRTC closes a
   * peer connection on its own threads, which takes milliseconds on an idle machine and
   * seconds under load; this waits for that at most {@link WebRtcConfig#closeTimeout()}. A
   * close that takes longer is abandoned where it stands (its native objects stay in memory,
   * counted in {@link WebRtcTransport#abandonedCloses()}) and this returns all the same: the
   * call is {@link State#CLOSED} either way.
   */
  @Override
  public void close() {
    close(CloseReason.LOCAL);
  }

  @Override
  public String toString() {
    return "WebRtcCall{" + id + ", " + state + (closeReason == null ? "" : " " + closeReason) + "}";
  }

  // --- setup -------------------------------------------------------------------------------

  /** The answerer's side: offer in, answer (with candidates) ready in {@link #localDescription()}. */
  void answer(String offerSdp) {
    startDispatcher();
    try {
      onNative(() -> {
        ensureOpen();
        createPeer();
      });
      await(setDescription(new RTCSessionDescription(RTCSdpType.OFFER, Sdp.withPtime(offerSdp, config.packetMillis())), true),
          "applying the offer");
      onNative(() -> {
        ensureOpen();
        RTCRtpTransceiver audio = audioTransceiver();
        if (audio == null) {
          throw new WebRtcException("the offer has no audio section (m=audio) this peer can use");
        }
        audio.setDirection(RTCRtpTransceiverDirection.SEND_RECV);
        sender = audio.getSender();
        sender.replaceTrack(localTrack);
        attachSink(audio);
      });
      RTCSessionDescription answer = await(createDescription(false), "creating the answer");
      await(setDescription(answer, false), "applying the answer");
      finishGathering();
      armConnectTimeout();
    } catch (RuntimeException | Error e) {
      throw setupFailed(e);
    }
    RealtimeThreads.demote(); // the call's encoder thread, made while applying the descriptions
  }

  /** The offerer's side: makes an offer, lets {@code signalling} carry it, applies the answer. */
  void dial(Function<String, String> signalling) {
    startDispatcher();
    try {
      onNative(() -> {
        ensureOpen();
        createPeer();
        RTCRtpTransceiverInit init = new RTCRtpTransceiverInit();
        init.direction = RTCRtpTransceiverDirection.SEND_RECV;
        init.streamIds = List.of("yaad-" + id);
        RTCRtpTransceiver audio = peer.addTransceiver(localTrack, init);
        sender = audio.getSender();
        attachSink(audio);
      });
      RTCSessionDescription offer = await(createDescription(true), "creating the offer");
      await(setDescription(offer, false), "applying the offer");
      finishGathering();
      String answer = signalling.apply(localDescription);
      if (answer == null || answer.isBlank()) {
        throw new WebRtcException("signalling returned no answer");
      }
      await(setDescription(new RTCSessionDescription(RTCSdpType.ANSWER, Sdp.withPtime(answer, config.packetMillis())), true),
          "applying the answer");
      armConnectTimeout();
    } catch (RuntimeException | Error e) {
      throw setupFailed(e);
    }
    RealtimeThreads.demote(); // the call's encoder thread, made while applying the descriptions
  }

  /**
   * Closes the half-made call and says why. webrtc-java reports native failures (an SDP it
   * cannot parse, a call on a closed peer) as {@link java.lang.Error}; those become a
   * {@link WebRtcException}, while the JVM's own errors (out of memory...) pass through.
   */
  private RuntimeException setupFailed(Throwable e) {
    close(CloseReason.SETUP_FAILED);
    if (e instanceof VirtualMachineError vm) {
      throw vm;
    }
    return e instanceof RuntimeException r ? r : new WebRtcException("WebRTC refused: " + e.getMessage(), e);
  }

  private void startDispatcher() {
    synchronized (stateLock) {
      if (dispatcher.getState() == Thread.State.NEW) {
        dispatcher.start();
      }
    }
  }

  private void createPeer() {
    peer = transport.factory().createPeerConnection(transport.rtcConfiguration(), new Observer());
    peerHandle = NativeRefs.handle(peer);
    source = new CustomAudioSource();
    localTrack = transport.factory().createAudioTrack("yaad-audio-" + id, source);
  }

  private RTCRtpTransceiver audioTransceiver() {
    for (RTCRtpTransceiver t : peer.getTransceivers()) {
      MediaStreamTrack track = t.getReceiver().getTrack();
      if (track != null && MediaStreamTrack.AUDIO_TRACK_KIND.equals(track.getKind()) && !t.stopped()) {
        return t;
      }
    }
    return null;
  }

  private void attachSink(RTCRtpTransceiver audio) {
    if (audio.getReceiver().getTrack() instanceof AudioTrack track) {
      remoteTrack = track;
      remoteTrack.addSink(sink);
    } else {
      throw new WebRtcException("the audio receiver has no audio track");
    }
  }

  /** Waits for ICE gathering (bounded), then takes the local description with its candidates. */
  private void finishGathering() {
    boolean complete = false;
    try {
      gathered.get(config.iceGatheringTimeout().toMillis(), TimeUnit.MILLISECONDS);
      complete = true;
    } catch (TimeoutException e) {
      log.info("webrtc: call {}: ICE gathering not complete after {} ms; answering with the candidates found so far",
          id, config.iceGatheringTimeout().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WebRtcException("interrupted while gathering ICE candidates", e);
    } catch (ExecutionException e) {
      throw new WebRtcException("call " + id + " closed while gathering ICE candidates");
    }
    String description = onNative(() -> {
      ensureOpen();
      return peer.getLocalDescription().sdp;
    });
    if (complete && !description.contains("a=candidate:")) {
      // WebRTC never gathers on loopback adapters, so a host whose only interface is lo (and no
      // STUN/TURN server) has no address to offer: fail now rather than time out later. (Still
      // gathering is different: candidates found later send checks the peer learns from.)
      throw new WebRtcException("no ICE candidate was gathered: this host has no network interface WebRTC can use "
          + "(it ignores loopback) and no STUN/TURN server answered; configure iceServers or run on a host with a network interface");
    }
    localDescription = Sdp.withPtime(description, config.packetMillis()); // the peer's packets
  }

  private void armConnectTimeout() {
    synchronized (stateLock) {
      if (!closing && state == State.CONNECTING) {
        timer = transport.schedule(() -> closeLater(CloseReason.CONNECT_TIMEOUT), config.connectTimeout().toMillis());
      }
    }
  }

  private CompletableFuture<RTCSessionDescription> createDescription(boolean offer) {
    CompletableFuture<RTCSessionDescription> result = track(new CompletableFuture<>());
    CreateSessionDescriptionObserver observer = new CreateSessionDescriptionObserver() {
      @Override
      public void onSuccess(RTCSessionDescription description) {
        result.complete(description);
      }

      @Override
      public void onFailure(String error) {
        result.completeExceptionally(new WebRtcException(error));
      }
    };
    onNative(() -> {
      ensureOpen();
      if (offer) {
        peer.createOffer(new RTCOfferOptions(), observer);
      } else {
        peer.createAnswer(new RTCAnswerOptions(), observer);
      }
    });
    return result;
  }

  private CompletableFuture<Void> setDescription(RTCSessionDescription description, boolean remote) {
    CompletableFuture<Void> result = track(new CompletableFuture<>());
    SetSessionDescriptionObserver observer = new SetSessionDescriptionObserver() {
      @Override
      public void onSuccess() {
        result.complete(null);
      }

      @Override
      public void onFailure(String error) {
        result.completeExceptionally(new WebRtcException(error));
      }
    };
    onNative(() -> {
      ensureOpen();
      try {
        if (remote) {
          peer.setRemoteDescription(description, observer);
        } else {
          peer.setLocalDescription(description, observer);
        }
      } catch (Error e) { // an SDP the library cannot even parse is refused synchronously
        result.completeExceptionally(new WebRtcException(e.getMessage(), e));
      }
    });
    return result;
  }

  private <T> CompletableFuture<T> track(CompletableFuture<T> future) {
    pending.add(future);
    future.whenComplete((v, e) -> pending.remove(future));
    return future;
  }

  /** Native callbacks complete these futures; a stuck native step cannot hang a caller for long. */
  private <T> T await(CompletableFuture<T> future, String step) {
    try {
      return future.get(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (closing) {
        throw new WebRtcException("call " + id + " closed while " + step);
      }
      throw new WebRtcException(step + " failed: " + cause.getMessage(), cause);
    } catch (TimeoutException e) {
      throw new WebRtcException(step + " did not finish within " + config.connectTimeout().toMillis() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WebRtcException("interrupted while " + step, e);
    }
  }

  private void ensureOpen() {
    if (released) {
      throw new WebRtcException("call " + id + " is closed" + (closeReason == null ? "" : " (" + closeReason + ")"));
    }
  }

  // --- audio -------------------------------------------------------------------------------

  /**
   * The transport's receive clock (or WebRTC's audio thread), every 10 ms: convert, enqueue,
   * return. No locks, no native calls, and nothing thrown: an exception here would surface in
   * the native library as a C++ exception, which aborts the process.
   */
  private void onNativeAudio(byte[] data, int bitsPerSample, int sampleRate, int channels, int frames) {
    if (closing) {
      return;
    }
    if (receivingThread == null) {
      receivingThread = Thread.currentThread().getName();
    }
    try {
      inbound.accept(data, bitsPerSample, sampleRate, channels, frames);
    } catch (RuntimeException e) {
      if (framesDropped.getAndIncrement() == 0) {
        log.warn("webrtc: call {}: received audio could not be converted: {}", id, e.toString());
      }
    }
  }

  private void enqueue(PcmFrame frame) {
    long size = 2L * frame.samples().length;
    if (queuedInBytes.get() + size > config.receiveBufferBytes()) {
      if (framesDropped.getAndIncrement() == 0) {
        log.warn("webrtc: call {}: dropping caller audio: its consumer is {} bytes behind{}; counting further drops quietly",
            id, config.receiveBufferBytes(), audioConsumer == null ? " (none was set)" : "");
      }
      return;
    }
    queuedInBytes.addAndGet(size);
    events.add(frame);
  }

  /** The call's own thread: audio frames and state changes, in order, to the listeners. */
  private void dispatch() {
    while (true) {
      Object event;
      try {
        event = events.take();
      } catch (InterruptedException e) {
        return; // only the transport's shutdown interrupts, after CLOSED was delivered
      }
      if (event == END) {
        return;
      }
      if (event instanceof PcmFrame frame) {
        try {
          consumerSet.await(); // released by onAudio, or by close
        } catch (InterruptedException e) {
          return;
        }
        queuedInBytes.addAndGet(-2L * frame.samples().length);
        Consumer<PcmFrame> consumer = audioConsumer;
        if (consumer == null) {
          framesDropped.incrementAndGet(); // closed without ever having a consumer
          continue;
        }
        try {
          consumer.accept(frame);
          millisReceived.addAndGet(frame.millis());
        } catch (RuntimeException e) {
          log.warn("webrtc: call {}: the audio consumer failed: {}", id, e.toString(), e);
        }
      } else if (event instanceof State s) {
        for (Consumer<State> listener : stateListeners) {
          try {
            listener.accept(s);
          } catch (RuntimeException e) {
            log.warn("webrtc: call {}: a state listener failed on {}: {}", id, s, e.toString(), e);
          }
        }
      }
    }
  }

  /** The transport's pacer thread, every 10 ms: hand WebRTC the next 10 ms (or silence). */
  void pushNext() {
    // Not while closing: the close holds nativeLock for as long as the peer connection takes to
    // close, and this one pacer thread must not wait on one call while the others go silent.
    if (state != State.CONNECTED || closing) {
      return;
    }
    int rate = sendBuffer.next10ms(chunk);
    boolean silence = rate == 0;
    if (silence) {
      rate = MAX_SEND_RATE;
      java.util.Arrays.fill(chunk, 0, rate / 100, (short) 0);
    }
    int samples = rate / 100;
    for (int i = 0; i < samples; i++) { // the native library reads native (little-endian) order
      short s = chunk[i];
      chunkBytes[2 * i] = (byte) s;
      chunkBytes[2 * i + 1] = (byte) (s >> 8);
    }
    synchronized (nativeLock) {
      if (released) {
        return;
      }
      source.pushAudio(chunkBytes, 16, rate, 1, samples);
    }
    if (!silence) {
      millisSent.addAndGet(10);
    }
  }

  // --- state -------------------------------------------------------------------------------

  private void moveTo(State next) {
    synchronized (stateLock) {
      if (closing || state == next) {
        return;
      }
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
      State previous = state;
      state = next;
      if (next == State.DISCONNECTED) {
        timer = transport.schedule(() -> closeLater(CloseReason.PEER_GONE), config.disconnectedTimeout().toMillis());
      }
      log.debug("webrtc: call {}: {} -> {}", id, previous, next);
      events.add(next);
    }
  }

  /** Closes on the transport's control thread: for native callbacks and timers, which must not close inline. */
  private void closeLater(CloseReason reason) {
    transport.closeLater(this, reason);
  }

  void close(CloseReason reason) {
    synchronized (stateLock) {
      if (closing) {
        return;
      }
      closing = true;
      closeReason = reason;
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }
    for (CompletableFuture<?> future : pending) {
      future.completeExceptionally(new WebRtcException("call " + id + " closed (" + reason + ")"));
    }
    gathered.completeExceptionally(new WebRtcException("call " + id + " closed (" + reason + ")"));
    transport.tearDown("call " + id, this::releaseNative);
    sendBuffer.clear();
    transport.forget(this);
    state = State.CLOSED;
    events.add(State.CLOSED);
    events.add(END);
    consumerSet.countDown();
    startDispatcher(); // if setup never began: the listeners still hear CLOSED, and the thread ends
    long seconds = (System.nanoTime() - startedNanos) / 1_000_000_000L;
    log.info("webrtc: call {} closed ({}) after {} s: {} ms heard, {} ms sent, {} frames dropped",
        id, reason, seconds, millisReceived.get(), millisSent.get(), framesDropped.get());
    closed.complete(reason);
  }

  /**
   * Releases the call's native objects, on one of the transport's teardown threads (the
   * closing thread waits for it at most {@link WebRtcConfig#closeTimeout()}). The objects are
   * taken out from under the lock first: a native step in progress (the pacer pushing 10 ms,
   * a setup step) finishes, every later one sees {@code released} and leaves them alone, and
   * no lock is held while WebRTC's threads close the peer connection.
   *
   * <p>The order matters: stop audio into the track (sink off, sender off) before the peer
   * connection closes; drop the reference webrtc-java 0.14.0 forgets to drop (see
   * {@link NativeRefs}), which frees the peer connection; then dispose the track before its
   * source. The factory and the audio device outlive every call (see
   * {@link WebRtcTransport#close()}). A failure releasing one object is logged and the rest are
   * still released.
   */
  private void releaseNative() {
    RTCPeerConnection peer;
    long peerHandle;
    AudioTrack remoteTrack;
    RTCRtpSender sender;
    AudioTrack localTrack;
    CustomAudioSource source;
    synchronized (nativeLock) {
      if (released) {
        return;
      }
      released = true;
      peer = this.peer;
      peerHandle = this.peerHandle;
      remoteTrack = this.remoteTrack;
      sender = this.sender;
      localTrack = this.localTrack;
      source = this.source;
      this.remoteTrack = null;
      this.sender = null;
      this.peer = null;
      this.peerHandle = 0;
      this.localTrack = null;
      this.source = null;
    }
    if (remoteTrack != null) {
      quietly("removing the audio sink", () -> remoteTrack.removeSink(sink));
    }
    if (sender != null) {
      quietly("detaching the local track", () -> sender.replaceTrack(null));
    }
    if (peer != null) {
      quietly("closing the peer connection", peer::close);
      // Only after a close that went through: the library clears its handle as it forgets it.
      if (peerHandle != 0 && NativeRefs.needed() && NativeRefs.handle(peer) == 0) {
        quietly("releasing the peer connection", () -> transport.releasedPeer(NativeRefs.release(peerHandle)));
      }
    }
    if (localTrack != null) {
      quietly("disposing the local track", localTrack::dispose);
    }
    if (source != null) {
      quietly("disposing the audio source", source::dispose);
    }
  }

  /**
   * Runs a step on this call's native objects, under its lock. A virtual thread hands the step
   * to the transport's native threads and waits unmounted: a JNI call pins its carrier, and
   * WebRTC's calls block until its signalling thread gets to them, which under load or in a
   * burst of call setups can take long enough to pin every carrier and freeze every virtual
   * thread of the process (seen: all calls' audio stalled for 8 s during 25 parallel setups).
   */
  private void onNative(Runnable step) {
    onNative(() -> {
      step.run();
      return null;
    });
  }

  private <T> T onNative(java.util.function.Supplier<T> step) {
    if (!Thread.currentThread().isVirtual()) {
      return locked(step);
    }
    return transport.onNativeThread(() -> locked(step));
  }

  private <T> T locked(java.util.function.Supplier<T> step) {
    assert !Thread.currentThread().isVirtual() : "a WebRTC native step on a virtual thread pins its carrier";
    synchronized (nativeLock) {
      return step.get();
    }
  }

  private void quietly(String what, Runnable action) {
    try {
      action.run();
    } catch (Throwable e) { // the library reports leftover native references as java.lang.Error
      log.warn("webrtc: call {}: {} failed: {}", id, what, e.toString());
    }
  }

  /** Native callbacks, on WebRTC's signalling thread: record and hand off, never call back in. */
  private final class Observer implements PeerConnectionObserver {
    @Override
    public void onIceCandidate(RTCIceCandidate candidate) {
      // Candidates travel inside the local description once gathering completes.
    }

    @Override
    public void onIceGatheringChange(RTCIceGatheringState gatheringState) {
      if (gatheringState == RTCIceGatheringState.COMPLETE) {
        gathered.complete(null);
      }
    }

    @Override
    public void onConnectionChange(RTCPeerConnectionState connectionState) {
      switch (connectionState) {
        case CONNECTED -> moveTo(State.CONNECTED);
        case DISCONNECTED -> moveTo(State.DISCONNECTED);
        case FAILED -> closeLater(CloseReason.ICE_FAILED);
        case CLOSED -> closeLater(CloseReason.PEER_GONE);
        default -> { }
      }
    }
  }
}
