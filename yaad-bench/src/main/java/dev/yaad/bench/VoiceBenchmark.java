package dev.yaad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.LlmSettings;
import dev.yaad.server.YaadServer;
import dev.yaad.server.http.HttpLimits;
import dev.yaad.server.http.SessionApi;
import dev.yaad.server.limit.Rate;
import dev.yaad.testing.ScriptedLlmServer;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedSpeechServer;
import dev.yaad.testing.SpokenFixtures;
import dev.yaad.voice.VoiceConfig;
import dev.yaad.webrtc.WebRtcConfig;
import java.lang.management.ManagementFactory;
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
 * <p>Reported, from the {@code voice_metrics} events the callers receive: p50/p99 of every
 * per-turn metric; Yaad's own overhead, end to end minus the endpointing window (the longer of
 * the minimum delay and speech-to-text, which runs during it) minus the LLM's first token and
 * text-to-speech's first byte, each as this turn took it ({@code overheadMs}; and with the
 * scripted latencies instead, {@code overheadVsScriptedMs}, which also counts the speech
 * double's own flite synthesis); the CPU this
 * process spent per streaming caller (server and callers together: an upper bound for the VAD);
 * how long audio still arrived after {@code interrupted} (the barge-in stop); and with
 * {@code --find-max}, the most callers whose overhead p50 stays within {@code --max-overhead-ms}.
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
      VoiceConfig.Builder voice = VoiceConfig.builder()
          .endpointingDelay(Duration.ofMillis(endpointingMs), Duration.ofMillis(Math.max(endpointingMs, 3000)));
      if (!local) {
        voice.remoteStt(VoiceConfig.Provider.of(speech.baseUrl(), null, "scripted-stt"), false)
            .remoteTts(VoiceConfig.Provider.of(speech.baseUrl(), null, "scripted-tts"), java.util.Map.of());
      }
      YaadServer.Config config = YaadServer.Config.of(StoreConfig.of("jdbc:h2:file:" + dir.resolve("yaad")))
          .withAddress("127.0.0.1", 0).withLlm(new LlmSettings(llm.baseUrl(), "scripted", null)).withVoice(voice.build())
          .withLimits(new HttpLimits(Duration.ofSeconds(10), 0, 0, Rate.OFF, Rate.OFF));
      SessionApi.Settings settings = SessionApi.Settings.defaults().withLimits(100_000, 8, SessionApi.Settings.DEFAULT_MAX_QUEUED_BYTES)
          .withRates(Rate.OFF, Rate.OFF, Rate.OFF);
      try (YaadServer server = new YaadServer(config, new YaadServer.AgentTuning(AgentConfig.defaults(),
          LearningConfig.defaults(), settings, transports.contains(VoiceCall.Transport.WEBRTC) ? WebRtcConfig.defaults() : null))
          .start()) {
        Scripted scripted = local ? new Scripted(0, ttftMs, 0) : new Scripted(sttMs, ttftMs, ttsMs);
        ObjectNode out = JSON.createObjectNode();
        transport = transports.get(0);
        out.put("benchmark", "voice").put("transport", transport.name().toLowerCase(Locale.ROOT)).put("engines", engines)
            .put("turnsPerSession", turns).put("endpointingMs", endpointingMs);
        out.set("scripted", JSON.valueToTree(scripted));
        Run first = run(server.port(), sessions, said, barge, scripted);
        out.set("run", first.json());
        print(first);
        if (transports.size() > 1) {
          // The same fixtures over each transport, one after the other: what the transport adds, side by side.
          ObjectNode by = out.putObject("byTransport");
          by.set(transport.name().toLowerCase(Locale.ROOT), first.json());
          for (VoiceCall.Transport other : transports.subList(1, transports.size())) {
            transport = other;
            Run r = run(server.port(), sessions, said, barge, scripted);
            by.set(other.name().toLowerCase(Locale.ROOT), r.json());
            print(r);
            out.putObject(other.name().toLowerCase(Locale.ROOT) + "MinusFirst")
                .put("heardEndToEndP50Ms", pct(r.heard, 50) - pct(first.heard, 50))
                .put("endToEndP50Ms", r.p("endToEndMs", 50) - first.p("endToEndMs", 50))
                .put("cpuPerSessionPercentOfACore", (r.cpuPerSession - first.cpuPerSession) * 100);
          }
          transport = transports.get(0);
        }
        VoiceCall.WebRtcVoiceCall.closeCallers();
        if (findMax) {
          ArrayNode sweep = out.putArray("sweep");
          int best = first.overheadP50() <= maxOverheadMs && first.failures() == 0 ? sessions : 0;
          for (int n = Math.max(10, sessions * 2); ; n *= 2) {
            Run r = run(server.port(), n, said, barge, scripted);
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

  /** The known latencies of the doubles, subtracted from end to end to leave Yaad's own share. */
  record Scripted(int sttMs, int llmFirstTokenMs, int ttsFirstByteMs) {}

  private void print(Run r) {
    System.out.printf(Locale.ROOT, "voice (%s): %d callers, %d turns measured, %d failed: heard end to end p50 %.0f ms p99 %.0f ms;"
        + " end to end p50 %.0f ms p99 %.0f ms;"
        + " overhead p50 %.1f ms p99 %.1f ms; CPU per caller %.2f%% of a core; audio after interrupted p50 %.1f ms p99 %.1f ms (%d barge-ins)%n",
        r.transport, r.sessions, r.turns(), r.failures(), pct(r.heard, 50), pct(r.heard, 99), r.p("endToEndMs", 50), r.p("endToEndMs", 99), r.overheadP50(),
        r.overheadP99(), r.cpuPerSession * 100, pct(r.stopMs, 50), pct(r.stopMs, 99), r.stopMs.size());
  }

  private Run run(int port, int n, short[] said, short[] barge, Scripted scripted) throws InterruptedException {
    Run run = new Run(transport.name().toLowerCase(Locale.ROOT), n, endpointingMs, scripted);
    CountDownLatch done = new CountDownLatch(n);
    AtomicInteger failures = new AtomicInteger();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpuStart = os.getProcessCpuTime();
    long wallStart = System.nanoTime();
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
    run.cpuPerSession = (os.getProcessCpuTime() - cpuStart) / (double) (System.nanoTime() - wallStart) / n;
    run.failed = failures.get();
    return run;
  }

  /** One caller: several turns, the last one interrupting the reply after its first half second of audio. */
  private void caller(VoiceCall call, short[] said, short[] barge, Run run) {
    for (int t = 0; t < turns; t++) {
      boolean last = t == turns - 1;
      call.streamUtterance(said, SAID_TRAILING_SILENCE);
      if (!last) {
        // voice_metrics follows the reply's audio_ended (the audio played out) on either transport
        run.turn(call.streamSilenceUntil("voice_metrics", Duration.ofSeconds(30)));
        run.heard(call.heardEndToEndMs());
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
    double cpuPerSession;
    int failed;

    Run(String transport, int sessions, int endpointingMs, Scripted scripted) {
      this.transport = transport;
      this.sessions = sessions;
      this.endpointingMs = endpointingMs;
      this.scripted = scripted;
    }

    void turn(JsonNode m) {
      metrics.add(m);
      JsonNode e2e = m.get("endToEndMs");
      if (e2e == null || !e2e.isNumber()) {
        return;
      }
      // Speech-to-text runs during the endpointing wait (from the end of speech), so the window is the longer of the two.
      overheadVsScripted.add(e2e.asDouble() - Math.max(endpointingMs, scripted.sttMs()) - scripted.llmFirstTokenMs()
          - scripted.ttsFirstByteMs());
      // The same with what the engines took this turn (each at least its scripted latency; the text-to-speech
      // double also synthesises with flite): what is left is Yaad's own.
      double stt = m.path("sttMs").asDouble(scripted.sttMs());
      double llm = m.path("llmFirstTokenMs").asDouble(scripted.llmFirstTokenMs());
      double tts = m.path("ttsFirstByteMs").asDouble(scripted.ttsFirstByteMs());
      overhead.add(e2e.asDouble() - Math.max(endpointingMs, stt) - llm - tts);
    }

    void heard(double ms) {
      if (ms >= 0) {
        heard.add(ms);
      }
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
      for (String field : List.of("endOfUtteranceMs", "sttMs", "llmFirstTokenMs", "ttsFirstByteMs", "endToEndMs")) {
        ObjectNode f = o.putObject(field);
        f.put("p50", p(field, 50)).put("p99", p(field, 99));
      }
      o.putObject("overheadMs").put("p50", overheadP50()).put("p99", overheadP99());
      o.putObject("overheadVsScriptedMs").put("p50", pct(overheadVsScripted, 50)).put("p99", pct(overheadVsScripted, 99));
      o.put("cpuPerSessionPercentOfACore", cpuPerSession * 100);
      o.putObject("audioAfterInterruptedMs").put("p50", pct(stopMs, 50)).put("p99", pct(stopMs, 99))
          .put("max", stopMs.isEmpty() ? Double.NaN : (double) Collections.max(stopMs)).put("bargeIns", stopMs.size());
      ArrayNode errs = o.putArray("errors");
      errors.forEach(errs::add);
      return o;
    }
  }
}
