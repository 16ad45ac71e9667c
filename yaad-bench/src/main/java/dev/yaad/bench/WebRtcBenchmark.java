package dev.yaad.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.management.OperatingSystemMXBean;
import dev.yaad.webrtc.WebRtcCall;
import dev.yaad.webrtc.WebRtcConfig;
import dev.yaad.webrtc.WebRtcTransport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code webrtc}: what a WebRTC call costs the server. This JVM runs Yaad's side (a
 * {@link WebRtcTransport} answering); the callers run in a second JVM ({@link WebRtcFarEnd})
 * on the same machine, so the CPU measured here is the answering side's alone: Opus decoding
 * of the caller's voice, resampling to 16 kHz, delivery; Opus encoding of the reply, pacing.
 * Callers talk without pause; Yaad's side answers half of the time (2 s speaking, 2 s quiet,
 * silence sent in between as always).
 *
 * <p>For each step of {@code --calls} (e.g. 1,10,25,50) it adds calls, lets them settle, then
 * measures over {@code --seconds}: this process's CPU time per second of wall time (in cores),
 * minus the idle transport's measured first in the same run, divided by the calls; and whether
 * every call still runs in real time (caller audio delivered and reply audio sent at least 95%
 * as fast as the clock). Both ends share the machine's cores, so the highest real-time step is
 * a lower bound for a server whose callers are elsewhere.
 */
@Command(name = "webrtc", mixinStandardHelpOptions = true,
    description = "CPU per WebRTC call on the answering side, and how many calls run in real time.")
final class WebRtcBenchmark implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--calls", split = ",", defaultValue = "1,10,25,50",
      description = "concurrent calls to measure at, ascending (default ${DEFAULT-VALUE})")
  List<Integer> steps;

  @Option(names = "--seconds", defaultValue = "12",
      description = "measuring window per step, a multiple of 4 (Yaad's side speaks 2 s of every 4) (default ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--settle-seconds", defaultValue = "3", description = "pause after adding calls, before measuring")
  int settleSeconds;

  @Option(names = "--churn", defaultValue = "0",
      description = "then open and close this many calls one after another and report the native memory each leaves behind"
          + " (run with a fixed heap: YAAD_JAVA_OPTS='-Xms256m -Xmx256m -XX:+AlwaysPreTouch')")
  int churn;

  @Option(names = "--json", description = "print the result as one JSON line (the last line)")
  boolean json;

  @Override
  public Integer call() throws Exception {
    java.io.PrintWriter report = spec.commandLine().getOut();
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    short[] reply = WebRtcFarEnd.syntheticVoice(24_000, 2000);
    List<WebRtcCall> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Long> acceptNanos = new java.util.concurrent.CopyOnWriteArrayList<>();
    ObjectNode result = new ObjectMapper().createObjectNode().put("benchmark", "webrtc").put("seconds", seconds)
        .put("cores", Runtime.getRuntime().availableProcessors());
    ArrayNode levels = result.putArray("levels");
    int maxRealtime = 0;

    Process farEnd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        WebRtcFarEnd.class.getName()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    PrintStream toFarEnd = new PrintStream(farEnd.getOutputStream(), true, StandardCharsets.UTF_8);
    int maxCalls = steps.stream().mapToInt(Integer::intValue).max().orElse(1);
    try (WebRtcTransport transport = WebRtcTransport.start(WebRtcConfig.builder().maxCalls(Math.max(maxCalls, 1)).build())) {
      java.util.concurrent.BlockingQueue<Integer> ready = new java.util.concurrent.LinkedBlockingQueue<>();
      Thread.startVirtualThread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(farEnd.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.split(" ");
            if (parts[0].equals("OFFER")) {
              // In parallel, as a server's HTTP handlers would: each accept waits for ICE gathering.
              Thread.startVirtualThread(() -> {
                String offer = new String(Base64.getDecoder().decode(parts[2]), StandardCharsets.UTF_8);
                String answer = "";
                long start = System.nanoTime();
                try {
                  WebRtcCall call = transport.accept(offer);
                  call.onAudio(frame -> { });
                  calls.add(call);
                  answer = call.localDescription();
                  acceptNanos.add(System.nanoTime() - start);
                } catch (RuntimeException e) {
                  report.println("webrtc: accepting call " + parts[1] + " failed: " + e.getMessage());
                }
                // An empty answer fails the caller's dial, which reports it.
                toFarEnd.println("ANSWER " + parts[1] + " " + Base64.getEncoder().encodeToString(answer.getBytes(StandardCharsets.UTF_8)));
              });
            } else if (parts[0].equals("READY")) {
              ready.add(Integer.parseInt(parts[1]));
            } else if (parts[0].equals("CLOSED")) {
              ready.add(0);
            } else if (parts[0].equals("FAILED")) {
              report.println("webrtc: a caller failed: " + line.substring(7));
            }
          }
        } catch (Exception e) {
          report.println("webrtc: signalling with the callers failed: " + e);
        }
      });
      // Yaad's side speaks 2 s, then is quiet 2 s, in every call.
      Thread speaker = Thread.ofPlatform().daemon().name("bench-speaker").start(() -> {
        long round = 0;
        while (!Thread.currentThread().isInterrupted()) {
          if (round++ % 2 == 0) {
            for (WebRtcCall call : calls) {
              if (call.queuedMillis() == 0) {
                call.send(reply, 24_000);
              }
            }
          }
          try {
            TimeUnit.SECONDS.sleep(2);
          } catch (InterruptedException e) {
            return;
          }
        }
      });

      // The idle transport: its pacer and audio threads tick even without calls.
      TimeUnit.SECONDS.sleep(settleSeconds);
      double idleCores = cores(os, seconds);
      report.printf(Locale.ROOT, "webrtc: idle transport %.3f cores%n", idleCores);
      result.put("idleCores", idleCores);

      for (int step : steps) {
        int add = step - calls.size();
        if (add > 0) {
          toFarEnd.println("DIAL " + add);
          Integer connected = ready.poll(60, TimeUnit.SECONDS);
          if (connected == null) {
            report.printf("webrtc: %d calls did not all connect within 60 s; stopping%n", step);
            break;
          }
        }
        TimeUnit.SECONDS.sleep(settleSeconds);
        long[] heardBefore = calls.stream().mapToLong(c -> c.stats().millisReceived()).toArray();
        long[] sentBefore = calls.stream().mapToLong(c -> c.stats().millisSent()).toArray();
        long wallStart = System.nanoTime();
        double busyCores = cores(os, seconds);
        double wallMs = (System.nanoTime() - wallStart) / 1e6;
        double minHeard = Double.MAX_VALUE;
        for (int i = 0; i < heardBefore.length; i++) {
          minHeard = Math.min(minHeard, (calls.get(i).stats().millisReceived() - heardBefore[i]) / wallMs);
        }
        long sent = 0;
        for (int i = 0; i < sentBefore.length; i++) {
          sent += calls.get(i).stats().millisSent() - sentBefore[i];
        }
        double sentRatio = sent / (wallMs * sentBefore.length / 2.0); // speaking half of the time
        double perCall = (busyCores - idleCores) / step;
        boolean realtime = minHeard >= 0.95 && sentRatio >= 0.95;
        if (realtime) {
          maxRealtime = step;
        }
        List<Long> accepts = acceptNanos.stream().sorted().toList();
        double acceptP50 = accepts.isEmpty() ? 0 : accepts.get(accepts.size() / 2) / 1e6;
        double acceptMax = accepts.isEmpty() ? 0 : accepts.getLast() / 1e6;
        acceptNanos.clear();
        report.printf(Locale.ROOT, "webrtc: %3d calls  %.3f cores  %.2f%% of a core per call  caller audio in real time x%.3f (slowest call)"
            + "  reply audio x%.3f  accept p50 %.0f ms max %.0f ms%s%n", step, busyCores, perCall * 100, minHeard, sentRatio,
            acceptP50, acceptMax, realtime ? "" : "  NOT REAL TIME");
        levels.addObject().put("calls", step).put("cores", busyCores).put("corePercentPerCall", perCall * 100)
            .put("callerAudioRealtimeMin", minHeard).put("replyAudioRealtime", sentRatio).put("realtime", realtime)
            .put("acceptP50Ms", acceptP50).put("acceptMaxMs", acceptMax);
      }
      speaker.interrupt();
      if (!closeAllTimed(transport, calls, result, report)) {
        farEnd.destroyForcibly();
        report.println(result);
        report.flush();
        Runtime.getRuntime().halt(2); // closeTimeout bounds every close: this would be a regression
      }
      if (churn > 0) {
        churn(transport, calls, toFarEnd, ready, result, report);
      }
      toFarEnd.println("HANGUP");
      farEnd.waitFor(30, TimeUnit.SECONDS);
    } finally {
      farEnd.destroyForcibly();
    }
    result.put("maxRealtimeCalls", maxRealtime);
    report.printf("webrtc: the most calls measured in real time: %d (callers on the same machine)%n", maxRealtime);
    if (json) {
      report.println(result);
    }
    return 0;
  }

  /**
   * Closes every call at once, as a server stopping or a burst of hang-ups would, each on its
   * own virtual thread, and reports how long the closes took. False if any close had not
   * returned after 60 s (then the run ends: see docs/webrtc.md, "Closing is slow under load").
   */
  private static boolean closeAllTimed(WebRtcTransport transport, List<WebRtcCall> calls, ObjectNode result,
      java.io.PrintWriter report)
      throws InterruptedException {
    List<Long> nanos = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<java.util.concurrent.Future<?>> closes = new java.util.ArrayList<>();
    var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
    for (WebRtcCall call : calls) {
      closes.add(threads.submit(() -> {
        long start = System.nanoTime();
        call.close();
        nanos.add(System.nanoTime() - start);
      }));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    int unfinished = 0;
    for (var close : closes) {
      try {
        close.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        unfinished++;
      } catch (java.util.concurrent.ExecutionException e) {
        report.println("webrtc: a close failed: " + e.getCause());
      }
    }
    List<Long> sorted = nanos.stream().sorted().toList();
    double p50 = sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2) / 1e6;
    double max = sorted.isEmpty() ? 0 : sorted.getLast() / 1e6;
    report.printf(Locale.ROOT, "webrtc: closing %d calls at once: p50 %.0f ms, max %.0f ms, %d abandoned after closeTimeout%s%n",
        closes.size(), p50, max, transport.abandonedCloses(), unfinished == 0 ? "" : ", " + unfinished + " NOT RETURNED after 60 s");
    result.putObject("closeAll").put("calls", closes.size()).put("p50Ms", p50).put("maxMs", max).put("unfinished", unfinished)
        .put("abandoned", transport.abandonedCloses());
    if (unfinished == 0) {
      threads.close();
      calls.clear();
    }
    return unfinished == 0;
  }

  /**
   * Calls set up and ended one after another (both sides hang up), measuring this process's
   * resident memory: what a call leaves behind once closed (webrtc-java 0.14.0 alone would leave
   * its whole peer connection; docs/webrtc.md). The first 20 calls warm up (JIT, allocator);
   * the growth over the rest is per call. Also reported at the quarter marks, so growth that
   * levels off (the allocator's arenas filling) shows apart from growth that does not.
   */
  private void churn(WebRtcTransport transport, List<WebRtcCall> calls, PrintStream toFarEnd,
      java.util.concurrent.BlockingQueue<Integer> ready, ObjectNode result, java.io.PrintWriter report) throws Exception {
    hangUpAll(calls, toFarEnd, ready);
    int warmUp = 20;
    long rssBefore = 0;
    ArrayNode marks = result.putObject("churnMarks").putArray("residentKb");
    for (int i = 0; i < warmUp + churn; i++) {
      if (i == warmUp) {
        System.gc();
        rssBefore = residentKb();
      }
      if (i > warmUp && (i - warmUp) % Math.max(1, churn / 4) == 0) {
        long kb = residentKb();
        marks.add(kb);
        report.printf(Locale.ROOT, "webrtc: churn: %d calls, resident memory %d KB%n", i - warmUp, kb);
      }
      toFarEnd.println("DIAL 1");
      if (ready.poll(30, TimeUnit.SECONDS) == null) {
        report.printf("webrtc: churn call %d did not connect; stopping%n", i);
        return;
      }
      hangUpAll(calls, toFarEnd, ready);
    }
    System.gc();
    long rssAfter = residentKb();
    double perCall = (double) (rssAfter - rssBefore) / churn;
    report.printf(Locale.ROOT, "webrtc: churn of %d calls: resident memory %d -> %d KB, %.1f KB per call not returned"
        + " (open calls now %d, closes abandoned %d)%n", churn, rssBefore, rssAfter, perCall, transport.openCalls(),
        transport.abandonedCloses());
    result.putObject("churn").put("calls", churn).put("residentKbBefore", rssBefore).put("residentKbAfter", rssAfter)
        .put("kbPerCall", perCall).put("abandonedCloses", transport.abandonedCloses());
  }

  private static void hangUpAll(List<WebRtcCall> calls, PrintStream toFarEnd, java.util.concurrent.BlockingQueue<Integer> ready)
      throws InterruptedException {
    calls.forEach(WebRtcCall::close);
    calls.clear();
    toFarEnd.println("CLOSE");
    ready.poll(30, TimeUnit.SECONDS);
  }

  private static long residentKb() throws java.io.IOException {
    for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    return -1;
  }

  /** This process's CPU over the next {@code seconds}, in cores (1.0 = one core busy). */
  private static double cores(OperatingSystemMXBean os, int seconds) throws InterruptedException {
    long cpu0 = os.getProcessCpuTime();
    long wall0 = System.nanoTime();
    TimeUnit.SECONDS.sleep(seconds);
    return (double) (os.getProcessCpuTime() - cpu0) / (System.nanoTime() - wall0);
  }
}
