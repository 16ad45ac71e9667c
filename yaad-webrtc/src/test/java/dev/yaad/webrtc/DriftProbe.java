package dev.yaad.webrtc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * A measurement, not a test: does received audio keep real time over a long call? Two
 * transports in this JVM, N calls between them for S seconds; every call sends, both ways, 20 ms
 * frames clocked by the call (a microphone) with a 20 ms 1 kHz beep every 3 s. For every
 * call end it prints the one-way latency (beep handed to {@code send} to its onset in
 * {@code onAudio}) of the first and the last five beeps, the audio delivered against the
 * wall clock, and WebRTC's own receive statistics (jitter buffer delay, audio removed by
 * time-stretching). A latency that grows is a backlog.
 *
 * <pre>
 * mvn -q -o -pl yaad-bench -am package -DskipTests   # the class path below
 * mvn -q -o -pl yaad-webrtc test-compile
 * java --enable-native-access=ALL-UNNAMED \
 *   -cp yaad-webrtc/target/test-classes:yaad-webrtc/target/classes:'yaad-bench/target/lib/*' \
 *   dev.yaad.webrtc.DriftProbe 4 60 [packetMillis, 10 or 20; default 10]
 * </pre>
 */
public final class DriftProbe {
  private static final int RATE = 16_000;
  private static final int FRAME = RATE / 50;

  private DriftProbe() {}

  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    int seconds = Integer.parseInt(args[1]);
    int packetMillis = args.length > 2 ? Integer.parseInt(args[2]) : WebRtcConfig.DEFAULT_PACKET_MILLIS;
    short[] beep = Signals.tone(1000, RATE, 20, 8000);
    short[] quiet = new short[FRAME];
    try (WebRtcTransport callers = WebRtcTransport.start(WebRtcConfig.builder().maxCalls(n).packetMillis(packetMillis).build());
        WebRtcTransport server = WebRtcTransport.start(WebRtcConfig.builder().maxCalls(n).packetMillis(packetMillis).build())) {
      List<WebRtcCall> ends = new ArrayList<>(); // caller, server, caller, server...
      for (int c = 0; c < n; c++) {
        WebRtcCall[] answered = new WebRtcCall[1];
        ends.add(callers.dial(offer -> (answered[0] = server.accept(offer)).localDescription()));
        ends.add(answered[0]);
      }
      long t0 = System.nanoTime();
      List<List<long[]>> heard = new ArrayList<>(); // per end: {onset ms}
      List<List<Long>> handed = new ArrayList<>(); // per end: beeps handed to the OTHER end, ms
      for (WebRtcCall end : ends) {
        List<long[]> onsets = Collections.synchronizedList(new ArrayList<>());
        heard.add(onsets);
        handed.add(Collections.synchronizedList(new ArrayList<>()));
        boolean[] loud = {false};
        end.onAudio(frame -> {
          boolean l = Signals.amplitude(frame.samples(), 0, frame.samples().length, 1000, frame.sampleRate()) > 1000;
          if (l && !loud[0]) {
            onsets.add(new long[] {(frame.receivedNanos() - t0) / 1_000_000}); // when it was pulled: when it would play
          }
          loud[0] = l;
        });
      }
      Signals.await(() -> ends.stream().allMatch(e -> e.state() == WebRtcCall.State.CONNECTED),
          java.time.Duration.ofSeconds(30), "every call connected");
      long start = System.nanoTime();
      Thread feeder = Thread.ofPlatform().daemon(true).start(() -> {
        for (long frame = 0; !Thread.currentThread().isInterrupted(); frame++) {
          boolean b = frame % 150 == 0; // every 3 s: a latency up to 3 s is not mistaken for a later beep's
          for (int i = 0; i < ends.size(); i++) {
            ends.get(i).send(b ? beep : quiet, RATE);
            if (b) {
              handed.get(i ^ 1).add((System.nanoTime() - t0) / 1_000_000);
            }
          }
          while (ends.get(0).queuedMillis() > 20) { // the calls' clock is the microphone's
            LockSupport.parkNanos(1_000_000);
          }
        }
      });
      Thread.sleep(seconds * 1000L);
      feeder.interrupt();
      long wall = (System.nanoTime() - start) / 1_000_000;
      System.out.printf(Locale.ROOT, "%d calls, %d ms packets, %d s, load %s%n", n, packetMillis, wall / 1000,
          java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).strip());
      for (int i = 0; i < ends.size(); i++) {
        List<Long> lat = new ArrayList<>();
        List<Long> sent = new ArrayList<>(handed.get(i));
        for (long[] onset : new ArrayList<>(heard.get(i))) {
          long best = -1;
          for (long x : sent) {
            if (x <= onset[0] && onset[0] - x < 5000) {
              best = x;
            }
          }
          if (best >= 0) {
            lat.add(onset[0] - best);
          }
        }
        WebRtcCall end = ends.get(i);
        System.out.printf(Locale.ROOT, "call %d %s hears: one-way p50 first 5 beeps %d ms, last 5 beeps %d ms; delivered %d ms in %d ms of wall clock; %s%n",
            i / 2, i % 2 == 0 ? "caller" : "server", p50(lat.subList(0, Math.min(5, lat.size()))),
            p50(lat.subList(Math.max(0, lat.size() - 5), lat.size())), end.stats().millisReceived(),
            (System.nanoTime() - t0) / 1_000_000, inbound(end));
      }
    }
  }

  private static long p50(List<Long> values) {
    if (values.isEmpty()) {
      return -1;
    }
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }

  /** WebRTC's receive statistics of the call: jitter buffer, time-stretching. */
  private static String inbound(WebRtcCall call) throws Exception {
    Map<String, Object> m = WebRtcTransportTest.inboundRtp(call);
    double emitted = ((Number) m.get("jitterBufferEmittedCount")).doubleValue();
    return String.format(Locale.ROOT, "jitter buffer avg %.0f ms (target %.0f ms, minimum %.0f ms), removed by time-stretching %.0f ms, concealed %.0f ms",
        1000 * ((Number) m.get("jitterBufferDelay")).doubleValue() / emitted,
        1000 * ((Number) m.get("jitterBufferTargetDelay")).doubleValue() / emitted,
        1000 * ((Number) m.get("jitterBufferMinimumDelay")).doubleValue() / emitted,
        ((Number) m.get("removedSamplesForAcceleration")).doubleValue() / 48.0,
        ((Number) m.get("concealedSamples")).doubleValue() / 48.0);
  }
}
