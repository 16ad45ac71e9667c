package dev.yaad.server;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * nearest option or command for a misspelt one ({@code --prot}: did you mean {@code --port}?); and where
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
    String nearest = ex instanceof UnmatchedArgumentException unmatched ? nearest(cmd, unmatched.getUnmatched()) : null;
    if (nearest != null) {
      err.println("Did you mean " + nearest + "?");
    }
    err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for the options.");
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

  /** The option or subcommand nearest to the first unknown word, if one is near enough to be a typo. */
  static String nearest(CommandLine cmd, List<String> unmatched) {
    if (unmatched.isEmpty()) {
      return null;
    }
    String typed = unmatched.getFirst().split("=", 2)[0];
    List<String> names = new ArrayList<>(cmd.getSubcommands().keySet());
    cmd.getCommandSpec().options().forEach(o -> names.addAll(List.of(o.names())));
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String name : names) {
      int d = distance(typed, name);
      if (d < bestDistance) {
        best = name;
        bestDistance = d;
      }
    }
    // A typo is a letter or two (or a third of a long name) away; anything further is another word.
    return best != null && bestDistance <= Math.max(2, typed.length() / 3) ? best : null;
  }

  /** Levenshtein distance, with a swap of two neighbours counted as one edit ({@code --prot} is one from {@code --port}). */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  private static String optionNamedIn(String message) {
    Matcher m = OPTION_IN_MESSAGE.matcher(message == null ? "" : message);
    return m.find() ? m.group(1) : null;
  }

  private static boolean givenOnCommandLine(String option, String[] args) {
    return args != null && Arrays.stream(args).anyMatch(a -> a.equals(option) || a.startsWith(option + "="));
  }
}
