package dev.yaad.bench;

import dev.yaad.server.Main;
import dev.yaad.voice.VadBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine;

/**
 * {@code yaad-bench}: Yaad's measurements, one subcommand each.
 *
 * <p>To add a benchmark, write a picocli {@code @Command} class in this package and list it
 * in {@code subcommands} below; nothing else registers it.
 */
@Command(
    name = "yaad-bench",
    mixinStandardHelpOptions = true,
    description = "Measures Yaad. Run a subcommand with --help for its options.",
    subcommands = {
        SnapshotBenchmark.class,
        CacheBenchmark.class,
        GreetingChaosBenchmark.class,
        ReplayBenchmark.class,
        LocomoBenchmark.class,
        SearchBenchmark.class,
        WebRtcBenchmark.class,
        LearningBenchmark.class,
        LoadBenchmark.class,
        VoiceBenchmark.class,
        VadBenchmark.class,
        HelpCommand.class,
    })
public final class BenchMain {

  public static void main(String[] args) {
    // Our own logback file name, so a logback.xml from another module on the class path cannot take over.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "yaad-bench-logback.xml");
    }
    NativeStdout.toStderr(); // the JSON stays the last line of stdout whatever native threads print
    System.exit(commandLine().execute(args));
  }

  /** The command line with every subcommand registered; tests run benchmarks through it. */
  static CommandLine commandLine() {
    // The server's option groups (database, embeddings) read the same environment variables here.
    return new CommandLine(new BenchMain()).setCaseInsensitiveEnumValuesAllowed(true)
        .setDefaultValueProvider(Main.environmentDefaults(System.getenv()));
  }
}
