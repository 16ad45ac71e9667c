package dev.yaad.webrtc;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls received audio out of WebRTC every 10 ms of the wall clock, instead of the headless
 * audio device's own thread, which falls behind real time.
 *
 * <p>Received audio reaches a remote track's sinks only when something pulls the mix of all
 * calls out of WebRTC (its {@code AudioTransport::NeedMorePlayData}: each call's jitter
 * buffer gives 10 ms). With no sound card, webrtc-java 0.14.0's
 * {@code HeadlessAudioDeviceModule} does that on its capture thread in a loop that pulls, then
 * sleeps {@code 10 - elapsed} ms: every late wake-up is lost for good, so it runs as slow as
 * the machine is busy (measured: 91.6% of real time with 4 calls at load average 16; 35.3 s
 * pulled in 37 s with 10 calls). The jitter buffers then grow by what was not pulled: WebRTC
 * throws some of it away by time-stretching, and the rest is latency that grows for as long as
 * the call lasts (1.0 to 1.3 s after 60 s, each way), including reply audio still playing out
 * long after a barge-in.
 *
 * <p>This clock takes the pulling over. At start it reads the audio transport the factory
 * registered with the device and clears the device's copy (under the device's own lock), so
 * the device's thread pulls nothing any more (it goes on handing silence to a buffer that
 * discards it, as before); then one platform thread of ours calls {@code NeedMorePlayData}
 * against absolute deadlines, 10 ms apart from the start: a late wake-up pulls the missed
 * 10 ms chunks at once (catching up, as a sound card's callback would), and one that is more
 * than {@link #MAX_CATCH_UP_NANOS} late skips what it missed (counted), so a stalled process
 * cannot make the jitter buffers burst out seconds of audio. The sinks then run on this
 * thread, a Java thread, where they ran on a native one.
 *
 * <p>It reaches into the device object by its layout in the one native library this build
 * ships (webrtc-java 0.14.0, linux-x86_64), found by reading that library's code, and checks
 * that layout before it touches anything: the library version, the object's virtual table,
 * and the instructions that read the transport at the offset used here. If any check fails
 * (another build of the library), {@link #start} returns empty and says why once; the device's
 * thread keeps pulling, slow under load, as before. Upgrading webrtc-java: newer releases
 * rewrote this device; re-measure (docs/webrtc.md) before removing or adapting this class.
 */
final class ReceiveClock implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReceiveClock.class);
  static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
  /** Further behind than this, the missed pulls are skipped instead of made up. */
  static final long MAX_CATCH_UP_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  // The layout of jni::HeadlessAudioDeviceModule in libwebrtc-java-linux-x86_64.so of webrtc-java
  // 0.14.0 (objdump -d -C: RegisterAudioCallback, CaptureThreadProcess).
  private static final String VERSION = "0.14.0";
  /** The library's file name starts so (webrtc-java copies it to a temporary file and loads that). */
  private static final String LIBRARY = "libwebrtc-java-linux-x86_64";
  /** vtable for webrtc::RefCountedObject<jni::HeadlessAudioDeviceModule> (nm -DC). */
  private static final long VTABLE = 0x15e0ca0L;
  /** CaptureThreadProcess(): its instruction at +0x23 reads the transport, the one we take. */
  private static final long CAPTURE_READS_TRANSPORT = 0x4ea670L + 0x23;
  private static final byte[] MOV_TRANSPORT = HexFormat.of().parseHex("4d8bac24a0000000"); // mov 0xa0(%r12),%r13
  private static final long MUTEX = 0x70; // webrtc::Mutex mutex_ (a pthread mutex)
  private static final long TRANSPORT = 0xa0; // webrtc::AudioTransport* audio_callback_
  private static final long SAMPLE_RATE = 0x10; // int sample_rate_hz_
  private static final long CHANNELS = 0x18; // size_t channels_
  /** AudioTransport's virtual NeedMorePlayData (third entry: two RecordedDataIsAvailable come first). */
  private static final long NEED_MORE_PLAY_DATA = 0x10;

  private final Pointer device;
  private final Pointer transport;
  private final Function pull;
  private final Object[] args;
  private final Thread thread;
  private final AtomicLong pulls = new AtomicLong();
  private final AtomicLong skippedMillis = new AtomicLong();
  private volatile boolean running = true;

  private ReceiveClock(Pointer device, Pointer transport, String name) {
    this.device = device;
    this.transport = transport;
    this.pull = Function.getFunction(transport.getPointer(0).getPointer(NEED_MORE_PLAY_DATA));
    int rate = device.getInt(SAMPLE_RATE);
    long channels = Math.max(1, device.getLong(CHANNELS));
    long frames = rate / 100;
    Memory samples = new Memory(frames * channels * 2);
    // NeedMorePlayData(nSamples, nBytesPerSample, nChannels, samplesPerSec, audioSamples,
    //                  size_t& nSamplesOut, int64_t* elapsed_time_ms, int64_t* ntp_time_ms)
    this.args = new Object[] {transport, frames * channels, 2L, channels, rate, samples, new Memory(8), new Memory(8), new Memory(8)};
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
  }

  /**
   * Takes the pulling of received audio over from {@code device}, which a peer-connection
   * factory must already use. Empty (and the device's own thread keeps pulling) if this
   * library's layout is not the one checked for; the reason is logged once.
   */
  static Optional<ReceiveClock> start(HeadlessAudioDeviceModule device, String name) {
    try {
      return take(new Pointer(NativeRefs.handle(device)), name);
    } catch (RuntimeException | LinkageError e) { // JNA missing or unusable: the device keeps pulling
      log.warn("webrtc: received audio stays paced by webrtc-java's headless audio device ({})", e.toString());
      return Optional.empty();
    }
  }

  private static Optional<ReceiveClock> take(Pointer handle, String name) {
    String unsupported = unsupported(handle);
    if (unsupported != null) {
      log.warn("webrtc: received audio stays paced by webrtc-java's headless audio device ({}); under load it falls"
          + " behind real time and calls gain latency as they go on (docs/webrtc.md)", unsupported);
      return Optional.empty();
    }
    Pointer transport = take(handle);
    if (transport == null) {
      log.warn("webrtc: received audio stays paced by webrtc-java's headless audio device (no audio transport registered)");
      return Optional.empty();
    }
    ReceiveClock clock = new ReceiveClock(handle, transport, name);
    clock.thread.start();
    return Optional.of(clock);
  }

  /** Pulls made so far (each 10 ms of every call's received audio). */
  long pulls() {
    return pulls.get();
  }

  /** Audio not pulled because the clock was more than {@link #MAX_CATCH_UP_NANOS} late, in ms. */
  long skippedMillis() {
    return skippedMillis.get();
  }

  /**
   * Stops pulling and waits for the thread, at most {@code timeoutMillis}. The transport must
   * stay alive until this returns true (a pull uses the factory's audio state).
   *
   * @return false if the thread is still in a pull (stuck in WebRTC)
   */
  boolean stop(long timeoutMillis) {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(timeoutMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return !thread.isAlive();
  }

  @Override
  public void close() {
    stop(10_000);
  }

  private void run() {
    long next = System.nanoTime();
    while (running) {
      long now = System.nanoTime();
      if (now < next) {
        LockSupport.parkNanos(next - now);
        continue;
      }
      long from = catchUpFrom(now, next);
      skippedMillis.addAndGet((from - next) / PERIOD_NANOS * 10);
      next = from;
      if (devicePulls()) {
        take(device); // WebRTC registered it again: the device's thread must not pull beside us
      }
      try {
        pull.invokeInt(args);
        pulls.incrementAndGet();
      } catch (RuntimeException | Error e) {
        log.warn("webrtc: pulling received audio failed; the audio device's own thread pulls again: {}", e.toString());
        giveBack();
        return;
      }
      next += PERIOD_NANOS;
    }
  }

  /**
   * The deadline to pull at when it is {@code now} and the next pull was due at {@code next}:
   * {@code next} itself (the missed pulls are made one after another) unless that is more than
   * {@link #MAX_CATCH_UP_NANOS} ago; then the whole periods missed are skipped.
   */
  static long catchUpFrom(long now, long next) {
    long late = now - next;
    return late > MAX_CATCH_UP_NANOS ? next + late / PERIOD_NANOS * PERIOD_NANOS : next;
  }

  /** Whether the device holds an audio transport again, so that its own thread would pull too (it should not). */
  boolean devicePulls() {
    return device.getPointer(TRANSPORT) != null;
  }

  /** Clears the device's transport under its lock, so that its thread pulls nothing; returns it. */
  private static Pointer take(Pointer device) {
    return swap(device, null);
  }

  /** Hands the transport back to the device, whose thread then pulls again (slow, but audio flows). */
  private void giveBack() {
    swap(device, transport);
  }

  private static Pointer swap(Pointer device, Pointer transport) {
    Pointer mutex = device.share(MUTEX);
    Libc.LOCK.invokeInt(new Object[] {mutex});
    try {
      Pointer previous = device.getPointer(TRANSPORT);
      device.setPointer(TRANSPORT, transport);
      return previous;
    } finally {
      Libc.UNLOCK.invokeInt(new Object[] {mutex});
    }
  }

  /** Null if {@code device} is the object this class was written for; else why not. */
  private static String unsupported(Pointer device) {
    if (!VERSION.equals(NativeRefs.version())) {
      return "webrtc-java " + NativeRefs.version() + ", not " + VERSION;
    }
    long base = libraryBase();
    if (base == 0) {
      return LIBRARY + " is not mapped in this process";
    }
    if (Pointer.nativeValue(device.getPointer(0)) != base + VTABLE + 16) {
      return "the audio device is not the HeadlessAudioDeviceModule of " + LIBRARY + " " + VERSION;
    }
    byte[] code = new Pointer(base + CAPTURE_READS_TRANSPORT).getByteArray(0, MOV_TRANSPORT.length);
    if (!java.util.Arrays.equals(code, MOV_TRANSPORT)) {
      return "the audio device's code is not the one this was written for";
    }
    return null;
  }

  /** Where the native library is loaded: the start of its first mapping (/proc/self/maps). */
  private static long libraryBase() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        String[] f = line.trim().split("\\s+", 6);
        if (f.length == 6 && f[5].contains(LIBRARY) && Long.parseLong(f[2], 16) == 0) {
          return Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16);
        }
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }

  private static final class Libc {
    static final NativeLibrary C = NativeLibrary.getInstance("c");
    static final Function LOCK = C.getFunction("pthread_mutex_lock");
    static final Function UNLOCK = C.getFunction("pthread_mutex_unlock");
  }
}
