package dev.yaad.voice;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.testing.SpokenFixtures;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code yaad-bench vad}: the CPU one Silero VAD window costs on this thread, run alone and in
 * batches of B sessions ({@link SileroVad.Model#probabilities}, as {@link VadThreads} runs them),
 * over flite speech, each session at its own place in it. In {@code dev.yaad.voice} beside the
 * code it measures, as a benchmark source set mirrors the main packages.
 */
@Command(name = "vad", mixinStandardHelpOptions = true,
    description = "CPU per Silero VAD window, alone and in batches of sessions")
public final class VadBenchmark implements Callable<Integer> {
  @Option(names = "--batches", split = ",", defaultValue = "1,4,16,50", description = "batch sizes (sessions per run of the model)")
  List<Integer> batches;

  @Option(names = "--windows", defaultValue = "20000", description = "windows measured per batch size (after as many unmeasured)")
  int windows;

  @Option(names = "--json", description = "print the result as one JSON line (the last line)")
  boolean json;

  @Override
  public Integer call() {
    short[] speech = SpokenFixtures.concat(
        SpokenFixtures.english("the weather is nice today and my brother lives in new york", 16_000, 0.3, 0.5),
        SpokenFixtures.english("wait, stop, I have a question about the trip next week", 16_000, 0.2, 0.8));
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode rows = mapper.createArrayNode();
    double alone = 0;
    try (SileroVad.Model model = SileroVad.Model.load()) {
      for (int batch : batches) {
        List<SileroVad> vads = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
          vads.add(new SileroVad(model, 0.5f, 300, new SileroVad.Listener() {
            @Override
            public void speechStarted(long startSample) {}

            @Override
            public void speechEnded(long startSample, long endSample) {}
          }));
        }
        int runs = Math.max(1, windows / batch);
        run(model, vads, speech, runs); // warm up
        long cpu0 = cpu.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        run(model, vads, speech, runs);
        double cpuUs = (cpu.getCurrentThreadCpuTime() - cpu0) / 1e3 / runs / batch;
        double wallUs = (System.nanoTime() - wall0) / 1e3 / runs / batch;
        if (batch == 1) {
          alone = cpuUs;
        }
        ObjectNode row = rows.addObject().put("batch", batch).put("cpuPerWindowUs", round(cpuUs))
            .put("wallPerWindowUs", round(wallUs)).put("cpuPerRunUs", round(cpuUs * batch));
        if (alone > 0) {
          row.put("cpuVsAlone", Math.round(cpuUs / alone * 100) / 100.0);
        }
        System.out.printf(Locale.ROOT, "batch %3d: %7.1f us CPU per window (%.1f us per run), wall %7.1f us%s%n",
            batch, cpuUs, cpuUs * batch, wallUs, alone > 0 ? String.format(Locale.ROOT, ", %.2f of alone", cpuUs / alone) : "");
      }
    }
    if (json) {
      ObjectNode out = mapper.createObjectNode().put("benchmark", "vad").put("windows", windows);
      out.set("batches", rows);
      System.out.println(out);
    }
    return 0;
  }

  /** {@code runs} windows of every session, one batch each; each session reads the speech from its own offset. */
  private static void run(SileroVad.Model model, List<SileroVad> vads, short[] speech, int runs) {
    int stride = speech.length / vads.size() / SileroVad.WINDOW * SileroVad.WINDOW;
    long[] at = new long[vads.size()];
    for (int b = 0; b < at.length; b++) {
      at[b] = (long) b * stride;
    }
    for (int r = 0; r < runs; r++) {
      for (int b = 0; b < vads.size(); b++) {
        SileroVad v = vads.get(b);
        while (!v.windowFull()) {
          int from = (int) (at[b] % speech.length);
          int n = Math.min(speech.length, from + SileroVad.WINDOW);
          at[b] += v.fill(speech, from, n);
        }
      }
      float[] p = model.probabilities(vads);
      for (int b = 0; b < p.length; b++) {
        vads.get(b).windowDone(p[b]);
      }
    }
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
