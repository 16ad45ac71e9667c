package dev.yaad.server;

import dev.yaad.memory.MemoryException;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.http.MemoryApi;
import io.javalin.util.JavalinBindException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/** The {@code yaad} command line. */
@Command(name = "yaad", subcommands = {Main.Serve.class, ChatCommand.class, UsersCommand.class, ReembedCommand.class},
    usageHelpAutoWidth = true, versionProvider = Version.class,
    description = "Yaad: a memory server for voice companion agents.")
public final class Main implements Runnable {
  /** Each option may also come from this environment variable, in every command that has it; a flag wins. */
  static final Map<String, String> ENV_VARS = withOptionGroups(
      Map.entry("--host", "YAAD_HOST"),
      Map.entry("--port", "YAAD_PORT"),
      Map.entry("--db-url", "YAAD_DB_URL"),
      Map.entry("--db-user", "YAAD_DB_USER"),
      Map.entry("--db-password", "YAAD_DB_PASSWORD"),
      Map.entry("--db-pool-size", "YAAD_DB_POOL_SIZE"),
      Map.entry("--categories", "YAAD_CATEGORIES"),
      Map.entry("--api-keys", "YAAD_API_KEYS"),
      Map.entry("--token-secret", "YAAD_TOKEN_SECRET"),
      Map.entry("--llm-base-url", "YAAD_LLM_BASE_URL"),
      Map.entry("--llm-model", "YAAD_LLM_MODEL"),
      Map.entry("--llm-api-key", "YAAD_LLM_API_KEY"),
      Map.entry("--llm-first-token-ms", "YAAD_LLM_FIRST_TOKEN_MS"),
      Map.entry("--llm-first-token-budget-ms", "YAAD_LLM_FIRST_TOKEN_BUDGET_MS"),
      Map.entry("--llm-retries", "YAAD_LLM_RETRIES"),
      Map.entry("--embeddings-base-url", "YAAD_EMBEDDINGS_BASE_URL"),
      Map.entry("--embeddings-model", "YAAD_EMBEDDINGS_MODEL"),
      Map.entry("--embeddings-api-key", "YAAD_EMBEDDINGS_API_KEY"),
      Map.entry("--token", "YAAD_CHAT_TOKEN"));

  /** How long {@code serve} waits, after stopping, for the embedding model to leave native code. */
  static final Duration EXIT_WAIT = Duration.ofSeconds(30);

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Option(names = {"-V", "--version"}, versionHelp = true, description = "Print the version and exit.")
  boolean version;

  /** These options plus those of the option groups that declare their own ({@link MemoryOptions}, {@link LimitOptions}). */
  @SafeVarargs
  private static Map<String, String> withOptionGroups(Map.Entry<String, String>... entries) {
    Map<String, String> all = new java.util.HashMap<>(Map.ofEntries(entries));
    all.putAll(MemoryOptions.ENV_VARS);
    all.putAll(LimitOptions.ENV_VARS);
    all.putAll(VoiceOptions.ENV_VARS);
    all.putAll(WebRtcOptions.ENV_VARS);
    return Map.copyOf(all);
  }

  public static void main(String[] args) {
    ensureCarriers(System.getProperties(), Runtime.getRuntime().availableProcessors());
    int code = commandLine(System.getenv()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  static final String CARRIERS = "jdk.virtualThreadScheduler.parallelism";
  static final int MIN_CARRIERS = 8;

  /**
   * Gives virtual threads at least {@value #MIN_CARRIERS} carriers (the JDK's default is one per
   * core), unless the operator set {@value #CARRIERS}. A native call — ONNX embeddings on REST
   * writes and searches; the VAD ran there too before it got its own platform threads — holds its
   * carrier for its whole run, so on a 2-core machine two of them stalled every session's streaming
   * (voice bench, 50 callers: overhead against the script p50 219 → 80 ms with 8). Must run before
   * the first virtual thread.
   */
  static void ensureCarriers(Properties properties, int cores) {
    if (properties.getProperty(CARRIERS) == null) {
      properties.setProperty(CARRIERS, Integer.toString(Math.max(MIN_CARRIERS, cores)));
    }
  }

  /** The command line with every command's defaults read from {@code env}. */
  static CommandLine commandLine(Map<String, String> env) {
    CommandLine cli = new CommandLine(new Main());
    // Set on the root, it reaches every subcommand, nested ones included.
    cli.setDefaultValueProvider(environmentDefaults(env));
    cli.setParameterExceptionHandler(new UsageErrors(env));
    return cli;
  }

  /**
   * Defaults from {@code env} for the options of {@link #ENV_VARS} (a flag wins): for any
   * command line that mixes in the server's option groups, such as yaad-bench's.
   */
  public static CommandLine.IDefaultValueProvider environmentDefaults(Map<String, String> env) {
    return arg -> {
      String var = arg instanceof OptionSpec option ? ENV_VARS.get(option.longestName()) : null;
      String value = var == null ? null : env.get(var);
      return value == null || value.isBlank() ? null : value;
    };
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(),
        "Missing command: try 'yaad serve', 'yaad chat', 'yaad users', 'yaad reembed' or 'yaad --help'");
  }

  static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }

  @Command(name = "serve", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Runs the HTTP API and the web page until stopped (Ctrl-C or SIGTERM).",
          "Every option can also be set by the environment variable named beside it; a flag wins.",
          "Without --api-keys or --token-secret it runs without authentication, which is allowed on loopback only."})
  static final class Serve implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--host", defaultValue = YaadServer.Config.DEFAULT_HOST, paramLabel = "ADDRESS",
        description = "Address to listen on; 0.0.0.0 for all interfaces (needs auth). Env YAAD_HOST. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", defaultValue = "" + YaadServer.Config.DEFAULT_PORT, paramLabel = "PORT",
        description = "Port to listen on; 0 picks a free one. Env YAAD_PORT. Default: ${DEFAULT-VALUE}.")
    int port;

    @Mixin DatabaseOptions database;

    // Secrets: never ${DEFAULT-VALUE}, so --help cannot print them from the environment.
    @Option(names = "--api-keys", paramLabel = "KEYS",
        description = {"Admin/server-to-server API keys, comma-separated; each the key itself (16+ characters)",
            "or sha256:<hex of its SHA-256>. Turns authentication on. Env YAAD_API_KEYS."})
    String apiKeys;

    @Option(names = "--token-secret", paramLabel = "SECRET",
        description = {"HMAC secret (32+ bytes) that signs session tokens; set it so tokens survive restarts",
            "and work on every instance. Turns authentication on. Env YAAD_TOKEN_SECRET."})
    String tokenSecret;

    @Option(names = "--llm-base-url", paramLabel = "URL",
        description = "OpenAI-compatible LLM endpoint, e.g. http://localhost:11434/v1 (Ollama). Env YAAD_LLM_BASE_URL.")
    String llmBaseUrl;

    @Option(names = "--llm-model", paramLabel = "MODEL", description = "LLM model name, e.g. llama3.1; default gpt-4o-mini. Env YAAD_LLM_MODEL.")
    String llmModel;

    @Option(names = "--llm-api-key", paramLabel = "KEY", description = "LLM API key, if the endpoint needs one. Env YAAD_LLM_API_KEY.")
    String llmApiKey;

    @Option(names = "--llm-first-token-ms", paramLabel = "MS", defaultValue = "3000",
        description = "How long one LLM attempt may take to its first token before it is abandoned (and retried within"
            + " the budget). Env YAAD_LLM_FIRST_TOKEN_MS. Default: ${DEFAULT-VALUE}.")
    long llmFirstTokenMs;

    @Option(names = "--llm-first-token-budget-ms", paramLabel = "MS", defaultValue = "6000",
        description = "How long a reply may wait for its first token in all, retries included; then it fails and the"
            + " companion says a short apology. Env YAAD_LLM_FIRST_TOKEN_BUDGET_MS. Default: ${DEFAULT-VALUE}.")
    long llmFirstTokenBudgetMs;

    @Option(names = "--llm-retries", paramLabel = "N", defaultValue = "1",
        description = "Retries of an LLM call that failed or stayed silent before its first token, 0..10."
            + " Env YAAD_LLM_RETRIES. Default: ${DEFAULT-VALUE}.")
    int llmRetries;

    @Mixin EmbeddingOptions embedding;

    @Mixin MemoryOptions memory;

    @Mixin LimitOptions limits;

    @Mixin VoiceOptions voice;

    @Mixin WebRtcOptions webrtc;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    /** The server configuration the options describe; bad values are usage errors. */
    YaadServer.Config config() {
      if (port < 0 || port > 65535) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--port': " + port + " is not between 0 and 65535");
      }
      if (host == null || host.isBlank()) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--host': it is blank");
      }
      AuthConfig auth;
      try {
        auth = AuthConfig.of(apiKeys, tokenSecret);
      } catch (IllegalArgumentException e) {
        String option = e.getMessage().startsWith("API key") ? "--api-keys" : "--token-secret";
        throw new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + e.getMessage());
      }
      LlmSettings llm;
      try {
        llm = new LlmSettings(llmBaseUrl, llmModel, llmApiKey, Duration.ofMillis(llmFirstTokenMs),
            Duration.ofMillis(llmFirstTokenBudgetMs), llmRetries);
      } catch (IllegalArgumentException e) {
        String message = e.getMessage();
        String option = message.startsWith("the first-token timeout") ? "--llm-first-token-ms"
            : message.startsWith("the first-token budget") ? "--llm-first-token-budget-ms"
            : message.startsWith("retries") ? "--llm-retries" : "--llm-base-url";
        throw new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + message);
      }
      Embedder embedder = embedding.embedder();
      return new YaadServer.Config(host, port, database.storeConfig(), MemoryApi.DEFAULT_MAX_BODY_BYTES, limits.auth(auth), llm,
          memory.cacheConfig(), embedder, memory.searchConfig(), memory.duplicateThreshold(embedder), memory.forgetRule(), limits.http(),
          voice.config());
    }

    /** How sessions behave: the defaults, with the limits of the options. */
    YaadServer.AgentTuning tuning() {
      YaadServer.AgentTuning defaults = YaadServer.AgentTuning.defaults();
      return new YaadServer.AgentTuning(defaults.agent(), limits.learning(defaults.learning()), limits.sessions(), webrtc.config());
    }

    @Override
    public Integer call() throws InterruptedException {
      // SIGTERM and Ctrl-C stop the server here, before the JVM begins to exit: ONNX Runtime
      // frees its environment in a shutdown hook of its own, which must not run while the
      // embedding model is still in native code (see OnnxEmbedder). The handlers are in place
      // before the server starts, since the model begins to load while it starts; a signal that
      // comes meanwhile stops the server once it has started. The hook is for other exits.
      CountDownLatch stopRequested = new CountDownLatch(1);
      for (String name : new String[] {"TERM", "INT"}) {
        try {
          Signal.handle(new Signal(name), signal -> stopRequested.countDown());
        } catch (IllegalArgumentException e) {
          // No such signal here: the shutdown hook below still stops the server.
        }
      }
      YaadServer server = new YaadServer(config(), tuning());
      try {
        server.start();
      } catch (MemoryException | JavalinBindException | YaadServer.UnsafeAddressException e) {
        spec.commandLine().getErr().println("yaad: " + e.getMessage());
        return 1;
      }
      Runtime.getRuntime().addShutdownHook(new Thread(server::close, "yaad-shutdown"));
      stopRequested.await();
      server.close();
      OnnxEmbedder.closeForExit(EXIT_WAIT);
      return 0;
    }
  }
}
