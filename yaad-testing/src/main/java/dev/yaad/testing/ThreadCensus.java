package dev.yaad.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** The process's live threads, for tests that check nothing is left running after they end. */
public final class ThreadCensus {
  private ThreadCensus() {}

  /**
   * Live threads by name (digits folded, so "Thread-7" and "Thread-9" count together), Java and
   * native alike (from /proc/self/task), minus what the JVM grows and shrinks on its own (JIT
   * compiler and GC workers, the virtual-thread carrier pool, process reapers) and the names
   * {@code alsoIgnore} accepts (a test's own clients).
   */
  public static Map<String, Integer> threads(Predicate<String> alsoIgnore) throws IOException {
    Map<String, Integer> names = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        String name;
        try {
          name = Files.readString(task.resolve("comm")).strip();
        } catch (IOException e) {
          continue; // ended while we looked
        }
        if (name.startsWith("C1 ") || name.startsWith("C2 ") || name.startsWith("GC ") || name.startsWith("G1 ")
            || name.startsWith("ForkJoinPool") || name.startsWith("VM ") || name.startsWith("Monitor Deflati")
            || name.startsWith("VirtualThread-u") || name.startsWith("process reaper") || alsoIgnore.test(name)) {
          continue;
        }
        names.merge(name.replaceAll("\\d+", "#"), 1, Integer::sum);
      }
    }
    return names;
  }
}
