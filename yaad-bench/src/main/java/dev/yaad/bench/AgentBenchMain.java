package dev.yaad.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/**
 * A temporary entry point for the agent's benchmarks until they are registered in
 * {@code BenchMain} (which lives on the bench branch). Logs only warnings, so that the
 * JSON result stays the last line.
 */
@Command(name = "yaad-agent-bench", mixinStandardHelpOptions = true,
    description = "The agent runtime's benchmarks.",
    subcommands = {GreetingChaosBenchmark.class, ReplayBenchmark.class, HelpCommand.class})
public final class AgentBenchMain {
  public static void main(String[] args) {
    ch.qos.logback.classic.Logger root =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(ch.qos.logback.classic.Level.WARN);
    System.exit(new CommandLine(new AgentBenchMain()).execute(args));
  }
}
