package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Categories;
import dev.yaad.memory.store.StoreConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

  /** What one run of the command line printed and returned. */
  record Run(int exitCode, String out, String err) {}

  static Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine(env);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  static YaadServer.Config config(Map<String, String> env, String... args) {
    CommandLine cli = Main.commandLine(env);
    CommandLine.ParseResult parsed = cli.parseArgs(args);
    Main.Serve serve = parsed.subcommand().commandSpec().commandLine().getCommand();
    return serve.config();
  }

  @Test
  void serveHelp_listsEveryOptionWithItsEnvironmentVariable() {
    Run run = run(Map.of(), "serve", "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("--host", "--port", "--db-url", "--db-user", "--db-password", "--categories",
        "YAAD_HOST", "YAAD_PORT", "YAAD_DB_URL", "YAAD_DB_USER", "YAAD_DB_PASSWORD", "YAAD_CATEGORIES",
        "Default: 127.0.0.1", "Default: 8080", StoreConfig.DEFAULT_H2_URL);
  }

  @Test
  void help_neverPrintsAPasswordFromTheEnvironment() {
    Run run = run(Map.of("YAAD_DB_PASSWORD", "hunter2-secret"), "serve", "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out() + run.err()).doesNotContain("hunter2-secret");
  }

  @Test
  void topLevelHelp_namesServe() {
    Run run = run(Map.of(), "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("serve");
  }

  @Test
  void noCommand_isAUsageError() {
    Run run = run(Map.of());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Missing command", "serve");
  }

  @Test
  void config_withNothingSet_usesTheEmbeddedDefaults() {
    YaadServer.Config config = config(Map.of(), "serve");
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.port()).isEqualTo(8080);
    assertThat(config.store().jdbcUrl()).isEqualTo(StoreConfig.DEFAULT_H2_URL);
    assertThat(config.store().username()).isNull();
    assertThat(config.store().password()).isNull();
    assertThat(config.store().categories().names()).isEqualTo(Categories.DEFAULT_NAMES);
  }

  @Test
  void config_readsEnvironmentVariables_andFlagsWin() {
    Map<String, String> env = Map.of(
        "YAAD_HOST", "0.0.0.0",
        "YAAD_PORT", "9090",
        "YAAD_DB_URL", "jdbc:postgresql://127.0.0.1:5432/yaad",
        "YAAD_DB_USER", "yaad",
        "YAAD_DB_PASSWORD", "from-env",
        "YAAD_CATEGORIES", "fact, goal");

    YaadServer.Config fromEnv = config(env, "serve");
    assertThat(fromEnv.host()).isEqualTo("0.0.0.0");
    assertThat(fromEnv.port()).isEqualTo(9090);
    assertThat(fromEnv.store().jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/yaad");
    assertThat(fromEnv.store().username()).isEqualTo("yaad");
    assertThat(fromEnv.store().password()).isEqualTo("from-env");
    assertThat(fromEnv.store().categories().names()).containsExactly("FACT", "GOAL");

    YaadServer.Config flags = config(env, "serve", "--host", "127.0.0.2", "--port", "7070",
        "--db-url", "jdbc:h2:file:./other", "--db-user", "me", "--db-password", "from-flag", "--categories", "MOOD");
    assertThat(flags.host()).isEqualTo("127.0.0.2");
    assertThat(flags.port()).isEqualTo(7070);
    assertThat(flags.store().jdbcUrl()).isEqualTo("jdbc:h2:file:./other");
    assertThat(flags.store().username()).isEqualTo("me");
    assertThat(flags.store().password()).isEqualTo("from-flag");
    assertThat(flags.store().categories().names()).isEqualTo(List.of("MOOD"));
  }

  @Test
  void badValues_areUsageErrorsNamingTheOption() {
    assertThat(run(Map.of(), "serve", "--port", "eighty")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--port", "eighty");
    });
    assertThat(run(Map.of(), "serve", "--port", "70000")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--port", "70000");
    });
    assertThat(run(Map.of("YAAD_PORT", "-1"), "serve")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--port");
    });
    assertThat(run(Map.of(), "serve", "--categories", "FACT,FACT")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--categories", "twice");
    });
    assertThat(run(Map.of(), "serve", "--db-url", "jdbc:mysql://localhost/yaad")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--db-url", "jdbc:mysql");
    });
    assertThat(run(Map.of(), "serve", "--colour", "red")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--colour");
    });
  }

  @Test
  void serve_whenTheStoreCannotOpen_exits1WithAOneLineReason(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("a-file");
    java.nio.file.Files.writeString(file, "not a directory");
    Run run = run(Map.of(), "serve", "--port", "0", "--db-url", "jdbc:h2:file:" + file.resolve("data/yaad"));
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).startsWith("yaad: ").contains("a-file").doesNotContain("\tat ");
  }
}
