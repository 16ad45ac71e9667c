package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At least 50 calls started and ended at random moments ({@link LifecycleStress}) in a forked
 * JVM: a native crash (an abort, a segfault, a JVM error file) is a failed test with the child's
 * output, not a dead test runner. The seed is printed so a failure can be replayed:
 * {@code -Dyaad.stress.seed=...}.
 */
class LifecycleStressTest {
  private static final int ROUNDS = 50; // one to three calls each: about 100 calls

  @Test
  void callsEndedAtRandomMoments_neverCrashOrLeak(@TempDir Path dir) throws Exception {
    String seed = System.getProperty("yaad.stress.seed", Long.toString(System.nanoTime()));
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
        "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"), "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), LifecycleStress.class.getName(), Integer.toString(ROUNDS), seed);
    Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("out.log").toFile()).start();
    boolean finished = process.waitFor(280, TimeUnit.SECONDS);
    if (!finished) {
      process.destroyForcibly().waitFor();
    }
    String output = Files.readString(dir.resolve("out.log"), StandardCharsets.UTF_8);
    System.out.println(output.lines().filter(l -> l.startsWith("stress:") || l.contains("WARN") || l.contains("ERROR") || l.startsWith("#"))
        .reduce("", (a, b) -> a + b + "\n"));
    List<Path> crashes;
    try (Stream<Path> files = Files.list(dir)) {
      crashes = files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList();
    }
    if (!crashes.isEmpty()) {
      fail("the JVM crashed (seed " + seed + "): " + crashes + "\n" + Files.readString(crashes.getFirst()).lines().limit(40).toList()
          + "\n" + tail(output));
    }
    if (!finished || process.exitValue() != 0) {
      fail("the stress run " + (finished ? "exited with " + process.exitValue() : "did not finish in 280 s")
          + " (seed " + seed + "):\n" + tail(output));
    }
    assertThat(output).containsPattern("stress: ok " + ROUNDS + " rounds, (\\d{2,}) calls");
    int calls = Integer.parseInt(output.replaceAll("(?s).*stress: ok \\d+ rounds, (\\d+) calls.*", "$1"));
    assertThat(calls).as("calls in the run").isGreaterThanOrEqualTo(50);
  }

  private static String tail(String output) {
    List<String> lines = output.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }
}
