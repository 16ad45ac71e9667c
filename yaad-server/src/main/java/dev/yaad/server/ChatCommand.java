package dev.yaad.server;

import ch.qos.logback.classic.Level;
import dev.yaad.memory.MemoryException;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.console.Console;
import io.javalin.util.JavalinBindException;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code yaad chat}: talk to the companion from a terminal ({@link Console}). With {@code --url}
 * it talks to a running server; without, it starts one in this process on the configured
 * database and LLM (every option and environment variable of {@code yaad serve}), on a free
 * loopback port with a one-off API key, and stops it at the end.
 */
@Command(name = "chat", usageHelpAutoWidth = true, sortOptions = false,
    description = {"Talks to the companion from the terminal over the session WebSocket: the greeting, streamed replies,"
        + " the memory tools it calls and what it learns. Each line is one turn; Ctrl-D or /quit ends the session.",
        "Without --url it starts a server in this process on the configured database and LLM: any option of"
        + " 'yaad serve' (--db-url, --llm-base-url, ...) and their environment variables apply. With the embedded H2"
        + " database, stop a running 'yaad serve' first, or use --url to talk to it."})
final class ChatCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--user", paramLabel = "ID", defaultValue = "me",
      description = "Whom the companion talks to (default: ${DEFAULT-VALUE}); with a session token, the token's user.")
  String user;

  @Option(names = "--url", paramLabel = "URL", description = "A running server, such as http://127.0.0.1:8080.")
  URI url;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "With --url: a session token or API key, when the server requires one. Env YAAD_CHAT_TOKEN.")
  String token;

  @Option(names = "--lang", paramLabel = "TAG", description = "The language to talk in, such as ur-PK or en-US.")
  String lang;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Unmatched List<String> serveOptions = new ArrayList<>();

  /** Where the turns come from; the terminal unless a test says otherwise. */
  InputStream in = System.in;

  @Override
  public Integer call() throws Exception {
    CommandLine cli = spec.commandLine();
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    boolean interactive = in == System.in && System.console() != null;
    if (url != null) {
      if (!serveOptions.isEmpty()) {
        throw new CommandLine.ParameterException(cli, "with --url the server is already configured; these options are"
            + " for an in-process server only: " + String.join(" ", serveOptions));
      }
      return new Console(url, user, Main.blankToNull(token), lang, cli.getOut(), cli.getErr()).run(reader, interactive);
    }
    // The same options, environment and checks as 'yaad serve': parse them with serve's own command line.
    CommandLine serve = spec.root().commandLine().getSubcommands().get("serve");
    serve.parseArgs(serveOptions.toArray(String[]::new));
    Main.Serve options = serve.getCommand();
    YaadServer.Config config = options.config();
    YaadServer.AgentTuning tuning = options.tuning(); // the session limits of serve's flags, too
    if (!config.llm().configured()) {
      cli.getErr().println("yaad chat: no LLM is configured, so there is nobody to talk to. Set YAAD_LLM_BASE_URL (and"
          + " YAAD_LLM_MODEL, YAAD_LLM_API_KEY as needed), for example a local Ollama:");
      cli.getErr().println("  YAAD_LLM_BASE_URL=http://localhost:11434/v1 YAAD_LLM_MODEL=llama3.1 bin/yaad chat");
      cli.getErr().println("or talk to a running server with --url http://127.0.0.1:8080");
      return 1;
    }
    String key = "chat-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
    config = config.withAddress("127.0.0.1", 0).withAuth(AuthConfig.of(key, null));
    quietLogs();
    try (YaadServer server = new YaadServer(config, tuning)) {
      try {
        server.start();
      } catch (MemoryException | JavalinBindException | IllegalStateException e) {
        cli.getErr().println("yaad: " + e.getMessage());
        return 1;
      }
      URI local = URI.create("http://127.0.0.1:" + server.port());
      return new Console(local, user, key, lang, cli.getOut(), cli.getErr()).run(reader, interactive);
    }
  }

  /** The in-process server's start-up and session lines would drown the conversation: warnings only. */
  private static void quietLogs() {
    Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    if (root instanceof ch.qos.logback.classic.Logger logback) {
      logback.setLevel(Level.WARN);
    }
  }
}
