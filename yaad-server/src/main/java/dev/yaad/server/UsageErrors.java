package dev.yaad.server;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * How a usage error reads: picocli's message; when the bad value came from an environment
 * variable rather than the command line, that variable's name (a person looking at
 * {@code --port} in the message would look for it on a command line they never typed); the
 * nearest options for a misspelt one ({@code --prot}: did you mean {@code --port}?); and where
 * to find help, without burying the message under the whole usage text. Exit code 2.
 */
final class UsageErrors implements IParameterExceptionHandler {
  private static final Pattern OPTION_IN_MESSAGE = Pattern.compile("option '(--[a-z0-9-]+)'");

  private final Map<String, String> env;

  UsageErrors(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println(message(ex, args));
    if (!UnmatchedArgumentException.printSuggestions(ex, err)) {
      err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
    }
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** The message, naming the environment variable when the offending value came from one. */
  String message(ParameterException ex, String[] args) {
    String message = ex.getMessage();
    String option = ex.getArgSpec() instanceof OptionSpec spec ? spec.longestName() : optionNamedIn(message);
    String variable = option == null ? null : Main.ENV_VARS.get(option);
    if (variable == null || Main.blankToNull(env.get(variable)) == null || givenOnCommandLine(option, args)) {
      return message;
    }
    return message + " (this value comes from the environment variable " + variable + ")";
  }

  private static String optionNamedIn(String message) {
    Matcher m = OPTION_IN_MESSAGE.matcher(message == null ? "" : message);
    return m.find() ? m.group(1) : null;
  }

  private static boolean givenOnCommandLine(String option, String[] args) {
    return args != null && Arrays.stream(args).anyMatch(a -> a.equals(option) || a.startsWith(option + "="));
  }
}
