package dev.yaad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.testing.ScriptedLlmServer;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedSpeechServer;
import dev.yaad.testing.SpokenFixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code voice}: N callers talk to one server at once, each streaming real speech (made by
 * flite and sox when the run starts) in 20 ms frames at real time over a {@link VoiceCall}
 * transport, several turns each, the last one barging in on the companion's reply. The LLM is
 * the scripted one and the speech engines either scripted OpenAI-compatible servers with
 * known latencies ({@code --engines scripted}) or the local ones ({@code --engines local}:
 * PocketSphinx, flite).
 *
 * <p>Yaad runs in a child JVM ({@code yaad serve}, as {@code load} runs it), the doubles and the
 * callers in this one: Yaad's threads and CPU time are its own, as in production where the
 * providers are other machines.
 *
 * <p>Reported, from the {@code voice_metrics} events the callers receive: p50/p99 of every
 * per-turn part (end of utterance, speech-to-text, transcript ready, LLM first token, first
 * sentence, text-to-speech first byte, end to end), how late the turn was handed over after its
 * endpointing window ({@code endpointingLateMs}); Yaad's own overhead in two readings:
 * {@code overheadMs}, end to end minus the endpointing window (the longer of the minimum delay
 * and speech-to-text, which runs during it) minus the providers' time as Yaad's clients timed it
 * this turn (the LLM until its first sentence was complete, text-to-speech to its first byte),
 * and {@code overheadVsScriptedMs}, with the scripted latencies instead, which also counts the
 * doubles' own queueing and the LLM's streaming of the first sentence as Yaad's; the doubles
 * timed directly from this process once a second ({@code doublesProbedDirectly}); the CPU the
 * server process spent per streaming caller; how long audio still arrived after
 * {@code interrupted} (the barge-in stop); and with {@code --find-max}, the most callers whose
 * overhead p50 stays within {@code --max-overhead-ms}.
 *
 * <p>Run: {@code voice --sessions 50 --json}; the JSON is the last line.
 */
@Command(name = "voice", mixinStandardHelpOptions = true,
    description = "Concurrent callers stream speech in real time: per-turn latencies, Yaad's overhead, VAD CPU, barge-in stop.")
final class VoiceBenchmark implements Callable<Integer> {
  static final int RATE = 16_000;
  static final int FRAME = RATE / 50;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SAID = "I am going to Lahore next week to see my sister.";
  private static final int SAID_TRAILING_SILENCE = RATE * 3 / 2;
  private static final String BARGE = "wait, stop, I have a question";
  private static final String REPLY = "How lovely, Lahore is beautiful at this time of the year. Who will you see there,"
      + " and how long will you stay? Tell me everything about the trip.";

  @Option(names = {"--sessions", "--callers"}, defaultValue = "50", description = "callers at once (default ${DEFAULT-VALUE})")
  int sessions;

  @Option(names = "--turns", defaultValue = "3", description = "spoken turns per caller, the last one a barge-in (default ${DEFAULT-VALUE})")
  int turns;

  @Option(names = "--transport", defaultValue = "websocket", split = ",",
      description = "how callers reach the server: ${COMPLETION-CANDIDATES}; several (websocket,webrtc) run one after the"
          + " other on the same server and fixtures")
  List<VoiceCall.Transport> transports;

  private VoiceCall.Transport transport; // of the run under way

  @Option(names = "--engines", defaultValue = "scripted", description = "scripted (OpenAI-compatible doubles) or local (PocketSphinx, flite)")
  String engines;

  @Option(names = "--stt-ms", defaultValue = "150", description = "scripted speech-to-text latency (default ${DEFAULT-VALUE})")
  int sttMs;

  @Option(names = "--tts-ms", defaultValue = "80", description = "scripted text-to-speech time to first byte (default ${DEFAULT-VALUE})")
  int ttsMs;

  @Option(names = "--ttft-ms", defaultValue = "200", description = "scripted LLM time to first token (default ${DEFAULT-VALUE})")
  int ttftMs;

  @Option(names = "--endpointing-ms", defaultValue = "500", description = "minimum endpointing delay (default ${DEFAULT-VALUE})")
  int endpointingMs;

  @Option(names = "--find-max", description = "also grow the callers until overhead p50 exceeds --max-overhead-ms")
  boolean findMax;

  @Option(names = "--max-overhead-ms", defaultValue = "50", description = "the overhead p50 --find-max holds (default ${DEFAULT-VALUE})")
  double maxOverheadMs;

  @Option(names = "--json", description = "print the result as one JSON line (the last line)")
  boolean json;

  @Option(names = "--warmup-callers", defaultValue = "10",
      description = "callers of an unmeasured run first, so the measured one meets a warm server (default ${DEFAULT-VALUE}; 0 for none)")
  int warmupCallers;

  @Option(names = "--server-heap", defaultValue = "2g", description = "heap of the child JVM running Yaad (default ${DEFAULT-VALUE})")
  String serverHeap;

  @Option(names = "--server-jvm-arg", paramLabel = "ARG",
      description = "one more JVM option for the child running Yaad (repeatable), e.g. --server-jvm-arg=-Djdk.virtualThreadScheduler.parallelism=8")
  List<String> serverJvmArgs = new ArrayList<>();

  private DoubleProbes probes;

  @Override
  public Integer call() throws Exception {
    boolean local = engines.equals("local");
    if (!local && !engines.equals("scripted")) {
      throw new IllegalArgumentException("--engines is scripted or local, not " + engines);
    }
    short[] said = SpokenFixtures.english(SAID, RATE, 0.3, SAID_TRAILING_SILENCE / (double) RATE);
    short[] barge = SpokenFixtures.english(BARGE, RATE, 0.0, 1.5);
    Path dir = Files.createTempDirectory("yaad-voice-bench");
    try (ScriptedLlmServer llm = ScriptedLlmServer.start().latency(Duration.ofMillis(ttftMs), Duration.ofMillis(2))
            .rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text(REPLY))
            .rule(c -> c.purpose() != Purpose.CONVERSATION, c -> Answer.text("{\"memories\":[]}"));
        ScriptedSpeechServer speech = local ? null : ScriptedSpeechServer.start().transcript(SAID)
            .latency(ScriptedSpeechServer.Endpoint.TRANSCRIPTIONS, Duration.ofMillis(sttMs))
            .latency(ScriptedSpeechServer.Endpoint.SPEECH, Duration.ofMillis(ttsMs))) {
      // Yaad in a child JVM, as in production where the providers are other machines: its threads, heap and
      // CPU time are its own, and the doubles' (and the callers') queueing in this JVM is not counted as Yaad's.
      List<String> serve = new ArrayList<>(List.of("--db-url", "jdbc:h2:file:" + dir.resolve("yaad"),
          "--llm-base-url", llm.baseUrl(), "--llm-model", "scripted",
          "--voice-endpointing-min-ms", Integer.toString(endpointingMs),
          "--voice-endpointing-max-ms", Integer.toString(Math.max(endpointingMs, 3000)),
          "--max-connections-per-ip", "0", "--user-request-rate", "off", "--key-request-rate", "off",
          "--session-message-rate", "off", "--session-byte-rate", "off", "--llm-user-budget", "off",
          "--webrtc", transports.contains(VoiceCall.Transport.WEBRTC) ? "on" : "off",
          "--webrtc-max-calls", Integer.toString(Math.max(100, 2 * sessions))));
      if (!local) {
        serve.addAll(List.of("--stt-base-url", speech.baseUrl(), "--stt-model", "scripted-stt",
            "--tts-base-url", speech.baseUrl(), "--tts-model", "scripted-tts"));
      }
      List<String> jvm = new ArrayList<>(List.of("-Xmx" + serverHeap));
      jvm.addAll(serverJvmArgs);
      try (ServerProcess server = ServerProcess.start(jvm, serve, dir.resolve("server.log"), Duration.ofMinutes(3))) {
        probes = new DoubleProbes(llm.baseUrl(), local ? null : speech.baseUrl());
        Scripted scripted = local ? new Scripted(0, ttftMs, 0) : new Scripted(sttMs, ttftMs, ttsMs);
        ObjectNode out = JSON.createObjectNode();
        transport = transports.get(0);
        out.put("benchmark", "voice").put("transport", transport.name().toLowerCase(Locale.ROOT)).put("engines", engines)
            .put("turnsPerSession", turns).put("endpointingMs", endpointingMs);
        out.set("scripted", JSON.valueToTree(scripted));
        if (warmupCallers > 0) { // a server that has been up a while: its code compiled, its pools and connections open
          Run warm = run(server, warmupCallers, said, barge, scripted);
          System.err.printf(Locale.ROOT, "voice: warm-up with %d callers done (%d turns, %d failed)%n", warmupCallers, warm.turns(), warm.failures());
        }
        Run first = run(server, sessions, said, barge, scripted);
        out.set("run", first.json());
        print(first);
        if (transports.size() > 1) {
          // The same fixtures over each transport, one after the other: what the transport adds, side by side.
          ObjectNode by = out.putObject("byTransport");
          by.set(transport.name().toLowerCase(Locale.ROOT), first.json());
          for (VoiceCall.Transport other : transports.subList(1, transports.size())) {
            transport = other;
            Run r = run(server, sessions, said, barge, scripted);
            by.set(other.name().toLowerCase(Locale.ROOT), r.json());
            print(r);
            ObjectNode minus = out.putObject(other.name().toLowerCase(Locale.ROOT) + "MinusFirst")
                .put("heardEndToEndP50Ms", pct(r.heard, 50) - pct(first.heard, 50))
                .put("endToEndP50Ms", r.p("endToEndMs", 50) - first.p("endToEndMs", 50))
                .put("heardBeforeServerP50Ms", pct(r.heardBeforeServer, 50) - pct(first.heardBeforeServer, 50)) // the way up
                .put("heardAfterAudioStartedP50Ms", pct(r.heardAfterAudioStarted, 50) - pct(first.heardAfterAudioStarted, 50)) // down
                .put("heardWithPagePlayoutP50Ms", pct(r.heardWithPagePlayout, 50) - pct(first.heardWithPagePlayout, 50))
                .put("cpuPerSessionPercentOfACore", (r.cpuPerSession - first.cpuPerSession) * 100);
            minus.set("heardSplitMeanMs", r.split().minus(first.split()).json()); // the parts of the heard delta, adding up
          }
          transport = transports.get(0);
        }
        VoiceCall.WebRtcVoiceCall.closeCallers();
        if (findMax) {
          ArrayNode sweep = out.putArray("sweep");
          int best = first.overheadP50() <= maxOverheadMs && first.failures() == 0 ? sessions : 0;
          for (int n = Math.max(10, sessions * 2); ; n *= 2) {
            Run r = run(server, n, said, barge, scripted);
            sweep.add(r.json());
            print(r);
            if (r.failures() > 0 || r.overheadP50() > maxOverheadMs) {
              break;
            }
            best = n;
            if (n >= 1600) {
              break;
            }
          }
          out.put("maxSessionsWithinOverhead", best);
        }
        if (json) {
          System.out.println(out);
        }
      }
    }
    return 0;
  }

  /**
   * The doubles asked directly, once a second while callers talk, from this process (not through
   * Yaad): their own latency under the same load, to hold Yaad's figures against.
   */
  static final class DoubleProbes {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI chat;
    private final URI speech;

    DoubleProbes(String llmBaseUrl, String speechBaseUrl) {
      chat = URI.create(llmBaseUrl + "/chat/completions");
      speech = speechBaseUrl == null ? null : URI.create(speechBaseUrl + "/audio/speech");
    }

    void probeEverySecond(Run run) {
      try {
        while (true) {
          Thread.sleep(1000);
          firstByteMs(chat, "{\"model\":\"scripted\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}",
              run.probedLlmFirstToken);
          if (speech != null) {
            String first = REPLY.substring(0, REPLY.indexOf('.') + 1);
            firstByteMs(speech, JSON.createObjectNode().put("model", "scripted-tts").put("input", first).put("voice", "alloy")
                .put("response_format", "pcm").toString(), run.probedTtsFirstByte);
          }
        }
      } catch (InterruptedException e) {
        // the run is over
      }
    }

    private void firstByteMs(URI uri, String body, List<Double> into) throws InterruptedException {
      long took = FirstByte.nanos(http, uri, body);
      if (took >= 0) {
        into.add(took / 1e6);
      }
    }
  }

  /** The known latencies of the doubles, subtracted from end to end to leave Yaad's own share. */
  record Scripted(int sttMs, int llmFirstTokenMs, int ttsFirstByteMs) {}

  private void print(Run r) {
    System.out.printf(Locale.ROOT, "voice (%s): %d callers, %d turns measured, %d failed: heard end to end p50 %.0f ms p99 %.0f ms;"
        + " end to end p50 %.0f ms p99 %.0f ms;"
        + " overhead p50 %.1f ms p99 %.1f ms (vs scripted p50 %.1f ms p99 %.1f ms); server CPU per caller %.2f%% of a core;"
        + " audio after interrupted p50 %.1f ms p99 %.1f ms max %.1f ms (%d barge-ins)%n",
        r.transport, r.sessions, r.turns(), r.failures(), pct(r.heard, 50), pct(r.heard, 99), r.p("endToEndMs", 50), r.p("endToEndMs", 99), r.overheadP50(),
        r.overheadP99(), pct(r.overheadVsScripted, 50), pct(r.overheadVsScripted, 99), r.cpuPerSession * 100, pct(r.stopMs, 50),
        pct(r.stopMs, 99), r.stopMs.isEmpty() ? Double.NaN : Collections.max(r.stopMs), r.stopMs.size());
  }

  private Run run(ServerProcess server, int n, short[] said, short[] barge, Scripted scripted) throws InterruptedException {
    Run run = new Run(transport.name().toLowerCase(Locale.ROOT), n, endpointingMs, scripted);
    int port = server.port();
    CountDownLatch done = new CountDownLatch(n);
    AtomicInteger failures = new AtomicInteger();
    long cpuStart = server.cpuNanos();
    long benchCpuStart = ownCpuNanos();
    long wallStart = System.nanoTime();
    Thread prober = Thread.ofVirtual().name("voice-bench-probes").start(() -> probes.probeEverySecond(run));
    for (int i = 0; i < n; i++) {
      String user = "voice-bench-" + n + "-" + i;
      Thread.ofVirtual().start(() -> {
        try (VoiceCall call = VoiceCall.open(transport, port, user, "en-US", RATE)) {
          caller(call, said, barge, run);
        } catch (Exception | AssertionError e) {
          failures.incrementAndGet();
          run.error(e.toString());
        } finally {
          done.countDown();
        }
      });
      Thread.sleep(20); // callers arrive over time, not in one instant
    }
    done.await();
    prober.interrupt();
    long wall = System.nanoTime() - wallStart;
    run.cpuPerSession = (server.cpuNanos() - cpuStart) / (double) wall / n;
    run.benchCores = (ownCpuNanos() - benchCpuStart) / (double) wall;
    run.failed = failures.get();
    return run;
  }

  /** CPU time this process (the callers and the doubles) has used so far, in nanoseconds. */
  private static long ownCpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  /** One caller: several turns, the last one interrupting the reply after its first half second of audio. */
  private void caller(VoiceCall call, short[] said, short[] barge, Run run) {
    for (int t = 0; t < turns; t++) {
      boolean last = t == turns - 1;
      call.streamUtterance(said, SAID_TRAILING_SILENCE);
      if (!last) {
        // voice_metrics follows the reply's audio_ended (the audio played out) on either transport
        JsonNode metrics = call.streamSilenceUntil("voice_metrics", Duration.ofSeconds(30));
        run.turn(metrics);
        run.heard(call.heardEndToEndMs(), call.heardAfterAudioStartedMs(), metrics.path("endToEndMs").asDouble(-1));
        run.heardWithPagePlayout(call.heardWithPagePlayoutMs());
        continue;
      }
      call.streamSilenceUntil("audio_started", Duration.ofSeconds(30));
      call.streamSilenceUntilAudio(Duration.ofMillis(500), Duration.ofSeconds(30));
      call.stream(barge);
      JsonNode interrupted = call.streamSilenceUntil("interrupted", Duration.ofSeconds(30));
      call.streamSilence(Duration.ofMillis(500));
      run.stop(call.audioAfterInterruptedMs(), interrupted);
    }
  }

  static double pct(List<Double> values, double p) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }

  static double mean(List<Double> values) {
    synchronized (values) {
      return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
  }

  /** Heard end to end of the turns split at the server: the way up, the server's end to end, the way down (means, ms). */
  record Split(double beforeServer, double server, double afterAudioStarted) {
    Split minus(Split o) {
      return new Split(beforeServer - o.beforeServer, server - o.server, afterAudioStarted - o.afterAudioStarted);
    }

    ObjectNode json() {
      return JSON.createObjectNode().put("beforeServer", beforeServer).put("server", server)
          .put("afterAudioStarted", afterAudioStarted).put("sum", beforeServer + server + afterAudioStarted);
    }
  }

  /** What one run at one number of callers measured. */
  static final class Run {
    final String transport;
    final int sessions;
    final int endpointingMs;
    final Scripted scripted;
    final List<JsonNode> metrics = Collections.synchronizedList(new ArrayList<>());
    final List<Double> overhead = Collections.synchronizedList(new ArrayList<>());
    final List<Double> overheadVsScripted = Collections.synchronizedList(new ArrayList<>());
    final List<Double> stopMs = Collections.synchronizedList(new ArrayList<>());
    final List<String> errors = Collections.synchronizedList(new ArrayList<>());
    /** End of the caller's speech to the first reply audio it received: the transport included. */
    final List<Double> heard = Collections.synchronizedList(new ArrayList<>());
    /** audio_started's arrival to the reply heard: its leading silence, plus the audio's way down if it travels apart. */
    final List<Double> heardAfterAudioStarted = Collections.synchronizedList(new ArrayList<>());
    /** Heard end to end minus that minus the server's end to end: the speech's way up (plus audio_started's on the socket). */
    final List<Double> heardBeforeServer = Collections.synchronizedList(new ArrayList<>());
    /** The server's end to end of the same turns. */
    final List<Double> heardServer = Collections.synchronizedList(new ArrayList<>());
    /** Heard end to end as the companion page plays the reply (the socket: behind its playout buffer). */
    final List<Double> heardWithPagePlayout = Collections.synchronizedList(new ArrayList<>());
    double cpuPerSession;
    /** Cores this process (the callers and the doubles, which share the machine with Yaad) kept busy. */
    double benchCores;
    int failed;

    Run(String transport, int sessions, int endpointingMs, Scripted scripted) {
      this.transport = transport;
      this.sessions = sessions;
      this.endpointingMs = endpointingMs;
      this.scripted = scripted;
    }

    /** The parts of end to end worth a percentile each, beside the event's own fields. */
    final List<Double> endpointingLate = Collections.synchronizedList(new ArrayList<>());
    final List<Double> llmStreamToFirstSentence = Collections.synchronizedList(new ArrayList<>());
    /** The doubles timed directly from this process, once a second: what a provider takes, without Yaad. */
    final List<Double> probedLlmFirstToken = Collections.synchronizedList(new ArrayList<>());
    final List<Double> probedTtsFirstByte = Collections.synchronizedList(new ArrayList<>());

    void turn(JsonNode m) {
      metrics.add(m);
      JsonNode e2eNode = m.get("endToEndMs");
      if (e2eNode == null || !e2eNode.isNumber()) {
        return;
      }
      double e2e = e2eNode.asDouble();
      // Speech-to-text may run during the endpointing wait (from the end of speech), so the window is the longer of the two.
      overheadVsScripted.add(e2e - Math.max(endpointingMs, scripted.sttMs()) - scripted.llmFirstTokenMs() - scripted.ttsFirstByteMs());
      // The providers as Yaad's clients timed them this turn: speech-to-text (request to answer), the LLM until its
      // first sentence was complete, text-to-speech to its first byte. End to end is end of utterance + first
      // sentence + text-to-speech, so what is left is the end of utterance beyond the window: the late start of
      // speech-to-text, the endpointing timer, handing the turn over.
      double stt = m.path("sttMs").asDouble(scripted.sttMs());
      double llm = m.path("llmFirstTokenMs").asDouble(scripted.llmFirstTokenMs());
      double sentence = m.path("firstSentenceMs").asDouble(llm);
      double tts = m.path("ttsFirstByteMs").asDouble(scripted.ttsFirstByteMs());
      overhead.add(e2e - Math.max(endpointingMs, stt) - sentence - tts);
      JsonNode eou = m.get("endOfUtteranceMs");
      JsonNode transcript = m.get("transcriptMs");
      if (eou != null && eou.isNumber() && transcript != null && transcript.isNumber()) {
        endpointingLate.add(eou.asDouble() - Math.max(endpointingMs, transcript.asDouble()));
      }
      llmStreamToFirstSentence.add(sentence - llm);
    }

    void heard(double ms) {
      if (ms >= 0) {
        heard.add(ms);
      }
    }

    /**
     * A turn's heard end to end, split where the server's clock is known: {@code afterStarted}
     * (from audio_started's arrival) and the server's own end to end; what is left before them
     * is the caller's speech end to the server's, plus audio_started's trip on the socket.
     */
    void heard(double ms, double afterStarted, double serverEndToEnd) {
      heard(ms);
      if (ms >= 0 && afterStarted >= 0 && serverEndToEnd >= 0) {
        heardAfterAudioStarted.add(afterStarted);
        heardBeforeServer.add(ms - afterStarted - serverEndToEnd);
        heardServer.add(serverEndToEnd);
      }
    }

    void heardWithPagePlayout(double ms) {
      if (ms >= 0) {
        heardWithPagePlayout.add(ms);
      }
    }

    /** The split turns' means: unlike medians, before + server + after add up to heard. */
    Split split() {
      return new Split(mean(heardBeforeServer), mean(heardServer), mean(heardAfterAudioStarted));
    }

    void stop(double ms, JsonNode interrupted) {
      stopMs.add(ms);
    }

    void error(String e) {
      if (errors.size() < 5) {
        errors.add(e);
      }
    }

    int turns() {
      return metrics.size();
    }

    int failures() {
      return failed;
    }

    double overheadP50() {
      return pct(overhead, 50);
    }

    double overheadP99() {
      return pct(overhead, 99);
    }

    double p(String field, double p) {
      List<Double> values = new ArrayList<>();
      synchronized (metrics) {
        for (JsonNode m : metrics) {
          JsonNode v = m.get(field);
          if (v != null && v.isNumber()) {
            values.add(v.asDouble());
          }
        }
      }
      return pct(values, p);
    }

    ObjectNode json() {
      ObjectNode o = JSON.createObjectNode();
      o.put("transport", transport).put("sessions", sessions).put("turns", turns()).put("failedSessions", failed);
      o.putObject("heardEndToEndMs").put("p50", pct(heard, 50)).put("p99", pct(heard, 99));
      o.putObject("heardAfterAudioStartedMs").put("p50", pct(heardAfterAudioStarted, 50)).put("p99", pct(heardAfterAudioStarted, 99));
      o.putObject("heardBeforeServerMs").put("p50", pct(heardBeforeServer, 50)).put("p99", pct(heardBeforeServer, 99));
      o.set("heardSplitMeanMs", split().json());
      o.putObject("heardWithPagePlayoutMs").put("p50", pct(heardWithPagePlayout, 50)).put("p99", pct(heardWithPagePlayout, 99));
      for (String field : List.of("endOfUtteranceMs", "sttMs", "transcriptMs", "llmFirstTokenMs", "firstSentenceMs",
          "ttsFirstByteMs", "endToEndMs")) {
        ObjectNode f = o.putObject(field);
        f.put("p50", p(field, 50)).put("p99", p(field, 99));
      }
      o.putObject("endpointingLateMs").put("p50", pct(endpointingLate, 50)).put("p99", pct(endpointingLate, 99));
      o.putObject("llmStreamToFirstSentenceMs").put("p50", pct(llmStreamToFirstSentence, 50)).put("p99", pct(llmStreamToFirstSentence, 99));
      o.putObject("overheadMs").put("p50", overheadP50()).put("p99", overheadP99());
      o.putObject("overheadVsScriptedMs").put("p50", pct(overheadVsScripted, 50)).put("p99", pct(overheadVsScripted, 99));
      ObjectNode probed = o.putObject("doublesProbedDirectly");
      probed.putObject("llmFirstTokenMs").put("p50", pct(probedLlmFirstToken, 50)).put("p99", pct(probedLlmFirstToken, 99))
          .put("n", probedLlmFirstToken.size());
      probed.putObject("ttsFirstByteMs").put("p50", pct(probedTtsFirstByte, 50)).put("p99", pct(probedTtsFirstByte, 99))
          .put("n", probedTtsFirstByte.size());
      o.put("cpuPerSessionPercentOfACore", cpuPerSession * 100);
      o.put("benchProcessCores", benchCores);
      o.putObject("audioAfterInterruptedMs").put("p50", pct(stopMs, 50)).put("p99", pct(stopMs, 99))
          .put("max", stopMs.isEmpty() ? Double.NaN : (double) Collections.max(stopMs)).put("bargeIns", stopMs.size());
      ArrayNode errs = o.putArray("errors");
      errors.forEach(errs::add);
      return o;
    }
  }
}
