package dev.yaad.webrtc;

import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.PortAllocatorConfig;
import dev.onvoid.webrtc.RTCBundlePolicy;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCIceServer;
import dev.onvoid.webrtc.RTCRtcpMuxPolicy;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Yaad's WebRTC endpoint: peer-to-peer audio calls with browsers (or any WebRTC peer), Opus on
 * the wire, 16-bit PCM on the Java side. One transport serves every call of a server: it owns
 * the native WebRTC engine (one peer-connection factory, its three native threads and one
 * headless audio device, no sound card needed), one pacer thread that feeds every call's
 * outgoing audio in real time and one receive clock thread that pulls every call's incoming
 * audio out of WebRTC in real time ({@link ReceiveClock}).
 *
 * <pre>{@code
 * try (WebRtcTransport transport = WebRtcTransport.start(WebRtcConfig.defaults())) {
 *   WebRtcCall call = transport.accept(offerSdpFromTheBrowser);   // blocks for ICE gathering
 *   call.onAudio(frame -> pipeline.hear(frame.samples()))         // 20 ms, 16 kHz mono
 *       .onState(state -> log(state));
 *   sendToTheBrowser(call.localDescription());                    // the answer, with candidates
 *   call.send(replyPcm, 24_000);                                  // plays in real time
 *   ...
 *   call.close();
 * }
 * }</pre>
 *
 * <h2>Signalling</h2>
 * Offer and answer are whole SDP texts. This side never trickles: {@link #accept} and
 * {@link #dial} wait for ICE gathering to complete (at most
 * {@link WebRtcConfig#iceGatheringTimeout()}) and put every candidate in the description. The
 * browser may do the same (wait for {@code iceGatheringState == "complete"} before sending its
 * offer) or trickle its candidates through {@link WebRtcCall#addRemoteCandidate}.
 *
 * <h2>Threads and shutdown</h2>
 * Thread-safe, and safe to use from virtual threads: WebRTC's blocking native steps run on the
 * transport's own platform threads, never pinning a caller's carrier. {@link #close()} closes
 * every open call, then releases the native engine in the order it needs (calls, pacer, receive
 * clock, audio device playout, factory, audio device). Calls and the transport may be closed from any thread
 * at any time, including while a call is still being set up. A close waits for WebRTC's own
 * threads, which takes milliseconds on an idle machine and seconds under load (keep it off
 * latency-critical threads), and never longer than {@link WebRtcConfig#closeTimeout()}: past
 * that the native objects are abandoned, counted in {@link #abandonedCloses()}, and the close
 * returns. A closed call leaves no native memory or thread behind (webrtc-java 0.14.0 would
 * leave its peer connection; see {@code NativeRefs} and docs/webrtc.md).
 */
public final class WebRtcTransport implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebRtcTransport.class);
  /** Platform threads that run virtual threads' native steps (see WebRtcCall.onNative). */
  private static final int NATIVE_THREADS = 2;

  private final WebRtcConfig config;
  private final HeadlessAudioDeviceModule audioDevice;
  private final PeerConnectionFactory factory;
  /** Pulls received audio in real time; empty if the device's own (slow) thread must do it. */
  private final java.util.Optional<ReceiveClock> receiveClock;
  private final ScheduledExecutorService clock;
  private final ExecutorService control;
  private final ExecutorService nativeSteps;
  /** Runs native teardown (a call's, the engine's) so that a close that never ends cannot hang its caller. */
  private final ExecutorService teardown;
  private final Set<WebRtcCall> calls = ConcurrentHashMap.newKeySet();
  private final AtomicLong abandoned = new AtomicLong();
  private final AtomicLong peersFreed = new AtomicLong();
  private final AtomicLong peersStillReferenced = new AtomicLong();
  private final AtomicLong ids = new AtomicLong();
  private final Object lifecycle = new Object();
  private volatile boolean closed;

  private WebRtcTransport(WebRtcConfig config) {
    this.config = config;
    HeadlessAudioDeviceModule device;
    try {
      device = new HeadlessAudioDeviceModule();
    } catch (Throwable e) { // the native library loads here: UnsatisfiedLinkError, ExceptionInInitializerError...
      throw new WebRtcException("the native WebRTC library (webrtc-java, linux-x86_64) could not be loaded; on Debian it needs "
          + "libpulse0 libx11-6 libxfixes3 libxrandr2 libxcomposite1 libdbus-1-3 libudev1: " + e, e);
    }
    this.audioDevice = device;
    try {
      // Playout must run BEFORE the factory registers its audio transport with the device. In
      // webrtc-java 0.14.0 the headless device's capture thread pulls the mix of received audio
      // and, if that registration succeeded, delivers it as microphone input to every sending
      // stream, racing CustomAudioSource.pushAudio: WebRTC then aborts the process
      // ("Check failed: !race_checker.RaceDetected()" in audio_send_stream.cc). With playout
      // already running the registration is refused, recorded audio goes nowhere, and the
      // capture thread still pulls received audio into our sinks every 10 ms.
      // WebRtcTransportTest.sentAudio_arrivesOnceAndClean guards this.
      audioDevice.initPlayout();
      audioDevice.startPlayout();
      this.factory = new PeerConnectionFactory(audioDevice);
    } catch (Throwable e) {
      quietly("disposing the audio device", audioDevice::dispose);
      throw new WebRtcException("the WebRTC engine could not start: " + e, e);
    }
    // The device's thread pulls received audio slower than real time under load (ReceiveClock).
    this.receiveClock = ReceiveClock.start(audioDevice, "yaad-webrtc-receive");
    this.clock = Executors.newSingleThreadScheduledExecutor(r -> platformThread(r, "yaad-webrtc-pacer"));
    this.control = Executors.newSingleThreadExecutor(r -> platformThread(r, "yaad-webrtc-control"));
    this.nativeSteps = Executors.newFixedThreadPool(NATIVE_THREADS, r -> platformThread(r, "yaad-webrtc-native"));
    // Unbounded on purpose: a teardown stuck in WebRTC keeps its thread, and must not keep the next one waiting.
    this.teardown = Executors.newCachedThreadPool(r -> platformThread(r, "yaad-webrtc-teardown"));
    clock.scheduleAtFixedRate(this::pace, 10, 10, TimeUnit.MILLISECONDS);
    RealtimeThreads.demote(); // the audio device's threads (see RealtimeThreads)
  }

  /**
   * Starts the native engine.
   *
   * @throws WebRtcException if the native library cannot be loaded or started; the message says
   *     which system libraries it needs
   */
  public static WebRtcTransport start(WebRtcConfig config) {
    WebRtcTransport transport = new WebRtcTransport(Objects.requireNonNull(config, "config"));
    log.info("webrtc: transport started ({} ICE servers, ports {}, input {} Hz, at most {} calls)",
        config.iceServers().size(), config.minPort() == 0 ? "any" : config.minPort() + "-" + config.maxPort(),
        config.inputSampleRate(), config.maxCalls());
    log.debug("webrtc: {}", config);
    return transport;
  }

  public WebRtcConfig config() {
    return config;
  }

  /**
   * Answers a peer's offer: the browser's side of a call. Blocks until the answer is ready
   * (ICE gathering, at most {@link WebRtcConfig#iceGatheringTimeout()}); the call then
   * connects on its own once the peer applies {@link WebRtcCall#localDescription()}.
   *
   * @param offerSdp the offer's SDP text; it must have an audio section
   * @throws WebRtcException if the transport is closed, {@link WebRtcConfig#maxCalls()} calls
   *     are open, or WebRTC refuses the offer (the message carries WebRTC's reason)
   * @throws IllegalArgumentException if the offer is blank or not SDP
   */
  public WebRtcCall accept(String offerSdp) {
    if (offerSdp == null || offerSdp.isBlank()) {
      throw new IllegalArgumentException("the offer is empty");
    }
    if (!offerSdp.startsWith("v=0")) {
      throw new IllegalArgumentException("the offer is not an SDP description (it must start with v=0)");
    }
    if (!offerSdp.contains("m=audio")) {
      throw new WebRtcException("the offer has no audio section (m=audio)");
    }
    WebRtcCall call = register();
    call.answer(offerSdp);
    log.info("webrtc: call {} answered", call.id());
    return call;
  }

  /**
   * Calls a peer: this side offers. {@code signalling} receives the offer (with candidates) and
   * returns the peer's answer; it runs on the calling thread. For clients of a Yaad server
   * (benchmarks, tests), and for a server that calls out.
   *
   * @throws WebRtcException as for {@link #accept}, or if signalling fails or returns nothing
   */
  public WebRtcCall dial(Function<String, String> signalling) {
    Objects.requireNonNull(signalling, "signalling");
    WebRtcCall call = register();
    call.dial(signalling);
    log.info("webrtc: call {} dialled", call.id());
    return call;
  }

  /** The calls now open (setting up, connected or disconnected). */
  public List<WebRtcCall> calls() {
    return List.copyOf(calls);
  }

  public int openCalls() {
    return calls.size();
  }

  /**
   * Closes every call ({@link WebRtcCall.CloseReason#TRANSPORT_CLOSED}) and releases the native
   * engine. Idempotent; blocks until everything is released.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      closed = true;
    }
    int open = calls.size();
    // All at once: each close waits for WebRTC's threads (bounded by closeTimeout), and one
    // stuck close must not make the others wait behind it. A call that another thread is closing
    // already (its session ended as the server stops) is waited for too: its teardown must end
    // before the engine it runs on is disposed, or it never ends (abandoned, with the engine).
    List<Thread> closing = List.copyOf(calls).stream()
        .map(call -> Thread.ofVirtual().name("yaad-webrtc-close-" + call.id()).start(() -> {
          call.close(WebRtcCall.CloseReason.TRANSPORT_CLOSED);
          call.closed().join();
        }))
        .toList();
    long deadline = System.nanoTime() + config.closeTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1);
    for (Thread thread : closing) {
      try {
        thread.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    shutdown(clock);
    shutdown(control);
    shutdown(nativeSteps);
    // Before the factory goes: a pull runs in the factory's audio state.
    boolean pulling = receiveClock.map(r -> !r.stop(config.closeTimeout().toMillis())).orElse(false);
    if (pulling) {
      abandoned.incrementAndGet();
    }
    if (abandoned.get() > 0 || closing.stream().anyMatch(Thread::isAlive)) {
      // A teardown still stuck in WebRTC holds the engine's threads; disposing the factory would
      // wait for them (or free what they use). The engine is left to the process's end.
      log.warn("webrtc: transport stopped ({} calls were open); its native engine is abandoned, not disposed:"
          + " {} native closes did not finish within {} ms", open, abandoned.get(), config.closeTimeout().toMillis());
      teardown.shutdown();
      return;
    }
    // Calls first (above), then the device's playout thread, then the factory (its native
    // threads end here), then the device, which the factory referenced.
    tearDown("the native engine", () -> {
      quietly("stopping audio playout", audioDevice::stopPlayout);
      quietly("stopping audio recording", audioDevice::stopRecording);
      quietly("disposing the peer connection factory", factory::dispose);
      quietly("disposing the audio device", audioDevice::dispose);
    });
    teardown.shutdown();
    log.info("webrtc: transport stopped ({} calls were open)", open);
  }

  /**
   * Native closes that did not finish within {@link WebRtcConfig#closeTimeout()}: their objects
   * (and, when the transport closed, its engine) were left to the process's end instead of
   * hanging the thread that closed them. Zero on a healthy transport.
   */
  public long abandonedCloses() {
    return abandoned.get();
  }

  /**
   * Registers this transport's meters: {@code yaad.webrtc.calls} (open calls),
   * {@code yaad.webrtc.closes.abandoned} and {@code yaad.webrtc.peers.freed}.
   */
  public void bindTo(MeterRegistry registry) {
    Gauge.builder("yaad.webrtc.calls", this, WebRtcTransport::openCalls).description("open WebRTC calls").register(registry);
    FunctionCounter.builder("yaad.webrtc.closes.abandoned", abandoned, AtomicLong::get)
        .description("native closes that did not finish within closeTimeout; their native objects were left behind")
        .register(registry);
    FunctionCounter.builder("yaad.webrtc.peers.freed", peersFreed, AtomicLong::get)
        .description("closed peer connections whose native memory was freed").register(registry);
  }

  // --- for WebRtcCall ----------------------------------------------------------------------

  /** The clock that pulls received audio; empty if the device's own thread does (see ReceiveClock). */
  java.util.Optional<ReceiveClock> receiveClock() {
    return receiveClock;
  }

  PeerConnectionFactory factory() {
    return factory;
  }

  RTCConfiguration rtcConfiguration() {
    RTCConfiguration rtc = new RTCConfiguration();
    for (IceServer server : config.iceServers()) {
      RTCIceServer ice = new RTCIceServer();
      ice.urls = server.urls();
      ice.username = server.username();
      ice.password = server.credential();
      rtc.iceServers.add(ice);
    }
    rtc.bundlePolicy = RTCBundlePolicy.MAX_BUNDLE;
    rtc.rtcpMuxPolicy = RTCRtcpMuxPolicy.REQUIRE;
    if (config.minPort() > 0) {
      rtc.portAllocatorConfig = new PortAllocatorConfig(config.minPort(), config.maxPort(), 0);
    }
    return rtc;
  }

  ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
    try {
      return clock.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return null; // shutting down: the transport closes the call itself
    }
  }

  /** Closes a call off the native callback thread that noticed its end. */
  void closeLater(WebRtcCall call, WebRtcCall.CloseReason reason) {
    try {
      control.execute(() -> call.close(reason));
    } catch (RejectedExecutionException e) {
      // shutting down: close() closes every call that is still registered
    }
  }

  /**
   * Runs a native step on a platform thread and waits for it, at most
   * {@link WebRtcConfig#connectTimeout()} (a step WebRTC never finishes keeps its thread, not
   * the caller); inline once the transport is shut down.
   */
  <T> T onNativeThread(java.util.concurrent.Callable<T> step) {
    java.util.concurrent.Future<T> future;
    try {
      future = nativeSteps.submit(step);
    } catch (RejectedExecutionException e) {
      try {
        return step.call(); // closing: the calls release their objects on the closing thread
      } catch (RuntimeException | Error inline) {
        throw inline;
      } catch (Exception inline) {
        throw new WebRtcException(inline.toString(), inline);
      }
    }
    try {
      return future.get(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new WebRtcException("WebRTC did not finish a step within " + config.connectTimeout().toMillis() + " ms");
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new WebRtcException(e.getCause().toString(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WebRtcException("interrupted while waiting for a WebRTC step", e);
    }
  }

  /**
   * Runs a native teardown step on a teardown thread and waits for it at most
   * {@link WebRtcConfig#closeTimeout()}. Past that the step is abandoned where it stands (its
   * thread stays with it), counted and logged once, and the caller goes on.
   *
   * @return false if the step was abandoned
   */
  boolean tearDown(String what, Runnable step) {
    long start = System.nanoTime();
    java.util.concurrent.Future<?> done;
    try {
      done = teardown.submit(() -> quietly("tearing down " + what, step));
    } catch (RejectedExecutionException e) {
      return false; // the transport already gave up on its engine (see close)
    }
    try {
      done.get(config.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
      long millis = (System.nanoTime() - start) / 1_000_000;
      if (millis > 1000) {
        log.info("webrtc: tearing down {} took {} ms", what, millis);
      }
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      long total = abandoned.incrementAndGet();
      log.warn("webrtc: tearing down {} did not finish within {} ms; its native objects are abandoned ({} so far on this transport)",
          what, config.closeTimeout().toMillis(), total);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false; // the teardown goes on without a waiter
    } catch (java.util.concurrent.ExecutionException e) {
      return true; // quietly() logs and swallows, so this does not happen
    }
  }

  /** A call dropped its peer connection's reference: {@code freed} if that was the last one. */
  void releasedPeer(boolean freed) {
    if (freed) {
      peersFreed.incrementAndGet();
    } else {
      peersStillReferenced.incrementAndGet();
    }
  }

  /** Closed peer connections freed / still referenced by something else after our release. */
  long peersFreed() {
    return peersFreed.get();
  }

  long peersStillReferenced() {
    return peersStillReferenced.get();
  }

  void forget(WebRtcCall call) {
    calls.remove(call);
  }

  private WebRtcCall register() {
    synchronized (lifecycle) {
      if (closed) {
        throw new WebRtcException("the WebRTC transport is closed");
      }
      if (calls.size() >= config.maxCalls()) {
        throw new WebRtcException("too many WebRTC calls: " + calls.size() + " open, the limit (maxCalls) is " + config.maxCalls());
      }
      WebRtcCall call = new WebRtcCall(this, Long.toString(ids.incrementAndGet(), 36));
      calls.add(call);
      return call;
    }
  }

  private void pace() {
    for (WebRtcCall call : calls) {
      try {
        call.pushNext();
      } catch (RuntimeException e) {
        log.warn("webrtc: call {}: sending audio failed: {}", call.id(), e.toString());
        closeLater(call, WebRtcCall.CloseReason.LOCAL);
      }
    }
  }

  private static Thread platformThread(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private static void shutdown(ExecutorService executor) {
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn("webrtc: a transport thread did not stop within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void quietly(String what, Runnable action) {
    try {
      action.run();
    } catch (Throwable e) {
      log.warn("webrtc: {} failed: {}", what, e.toString());
    }
  }
}
