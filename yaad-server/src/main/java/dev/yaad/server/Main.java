package dev.yaad.server;

import dev.yaad.memory.Categories;
import dev.yaad.memory.MemoryException;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.http.MemoryApi;
import io.javalin.util.JavalinBindException;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code yaad} command line. */
@Command(name = "yaad", subcommands = Main.Serve.class, usageHelpAutoWidth = true,
    description = "Yaad: a memory server for voice companion agents.")
public final class Main implements Runnable {
  /** Each option of {@code serve} may also come from this environment variable; a flag wins. */
  static final Map<String, String> ENV_VARS = Map.of(
      "--host", "YAAD_HOST",
      "--port", "YAAD_PORT",
      "--db-url", "YAAD_DB_URL",
      "--db-user", "YAAD_DB_USER",
      "--db-password", "YAAD_DB_PASSWORD",
      "--categories", "YAAD_CATEGORIES");

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  public static void main(String[] args) {
    int code = commandLine(System.getenv()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** The command line with {@code serve}'s defaults read from {@code env}. */
  static CommandLine commandLine(Map<String, String> env) {
    CommandLine cli = new CommandLine(new Main());
    cli.getSubcommands().get("serve").setDefaultValueProvider(arg -> {
      String var = arg instanceof OptionSpec option ? ENV_VARS.get(option.longestName()) : null;
      String value = var == null ? null : env.get(var);
      return value == null || value.isBlank() ? null : value;
    });
    return cli;
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing command: try 'yaad serve' or 'yaad --help'");
  }

  @Command(name = "serve", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Runs the HTTP API until stopped (Ctrl-C or SIGTERM).",
          "Every option can also be set by the environment variable named beside it; a flag wins."})
  static final class Serve implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--host", defaultValue = YaadServer.Config.DEFAULT_HOST, paramLabel = "ADDRESS",
        description = "Address to listen on; 0.0.0.0 for all interfaces. Env YAAD_HOST. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", defaultValue = "" + YaadServer.Config.DEFAULT_PORT, paramLabel = "PORT",
        description = "Port to listen on; 0 picks a free one. Env YAAD_PORT. Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--db-url", defaultValue = StoreConfig.DEFAULT_H2_URL, paramLabel = "JDBC_URL",
        description = {"Database: jdbc:h2:file:... (embedded) or jdbc:postgresql://host:port/db.",
            "Env YAAD_DB_URL. Default: " + StoreConfig.DEFAULT_H2_URL + "."})
    String dbUrl;

    @Option(names = "--db-user", paramLabel = "USER", description = "Database user. Env YAAD_DB_USER.")
    String dbUser;

    // No ${DEFAULT-VALUE} here: --help must never print a password taken from the environment.
    @Option(names = "--db-password", paramLabel = "PASSWORD",
        description = "Database password (prefer the env var, flags show in process lists). Env YAAD_DB_PASSWORD.")
    String dbPassword;

    @Option(names = "--categories", paramLabel = "LIST",
        description = {"Memory categories, comma-separated. Env YAAD_CATEGORIES.",
            "Default: FACT,GOAL,INTEREST,EXPERIENCE,PREFERENCE,PLAN,RELATIONSHIP,OPINION."})
    String categories;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    /** The server configuration the options describe; bad values are usage errors. */
    YaadServer.Config config() {
      if (port < 0 || port > 65535) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--port': " + port + " is not between 0 and 65535");
      }
      Categories names;
      try {
        names = categories == null || categories.isBlank() ? Categories.DEFAULT : Categories.parse(categories);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--categories': " + e.getMessage());
      }
      StoreConfig store;
      try {
        store = StoreConfig.of(dbUrl).withCredentials(blankToNull(dbUser), blankToNull(dbPassword)).withCategories(names);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--db-url': " + e.getMessage());
      }
      if (host == null || host.isBlank()) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--host': it is blank");
      }
      return new YaadServer.Config(host, port, store, MemoryApi.DEFAULT_MAX_BODY_BYTES);
    }

    @Override
    public Integer call() throws InterruptedException {
      YaadServer server = new YaadServer(config());
      try {
        server.start();
      } catch (MemoryException | JavalinBindException e) {
        spec.commandLine().getErr().println("yaad: " + e.getMessage());
        return 1;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        server.stop();
        stopped.countDown();
      }, "yaad-shutdown"));
      stopped.await();
      return 0;
    }

    private static String blankToNull(String value) {
      return value == null || value.isBlank() ? null : value;
    }
  }
}
