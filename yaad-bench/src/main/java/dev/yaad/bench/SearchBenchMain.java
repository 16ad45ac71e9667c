package dev.yaad.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/**
 * Temporary entry point for the search benchmarks until they are registered in
 * {@code BenchMain}; then this class goes.
 */
@Command(name = "yaad-bench", mixinStandardHelpOptions = true, subcommands = {LocomoBenchmark.class, SearchBenchmark.class, HelpCommand.class})
public final class SearchBenchMain {
  public static void main(String[] args) {
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "yaad-bench-logback.xml");
    }
    System.exit(new CommandLine(new SearchBenchMain()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }
}
