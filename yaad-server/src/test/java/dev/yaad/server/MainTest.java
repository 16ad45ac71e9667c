package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Categories;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.internal.store.TestWrites;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.http.HttpLimits;
import dev.yaad.server.http.SessionApi;
import dev.yaad.server.limit.Rate;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
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

  /** The {@code serve} command as {@code args} and {@code env} set it up, before it runs. */
  static Main.Serve serve(Map<String, String> env, String... args) {
    return Main.commandLine(env).parseArgs(args).subcommand().commandSpec().commandLine().getCommand();
  }

  static YaadServer.Config config(Map<String, String> env, String... args) {
    return serve(env, args).config();
  }

  @Test
  void serveHelp_listsEveryOptionWithItsEnvironmentVariable() {
    Run run = run(Map.of(), "serve", "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("--host", "--port", "--db-url", "--db-user", "--db-password", "--categories",
        "YAAD_HOST", "YAAD_PORT", "YAAD_DB_URL", "YAAD_DB_USER", "YAAD_DB_PASSWORD", "YAAD_CATEGORIES",
        "Default: 127.0.0.1", "Default: 8080", StoreConfig.DEFAULT_H2_URL);
  }

  static YaadServer.AgentTuning tuning(Map<String, String> env, String... args) {
    return serve(env, args).tuning();
  }

  @Test
  void limits_withNothingSet_areTheComponentsOwnDefaults() {
    YaadServer.Config config = config(Map.of(), "serve");
    assertThat(config.limits()).isEqualTo(HttpLimits.defaults());
    assertThat(config.auth().maxTokenTtl()).isEqualTo(AuthConfig.DEFAULT_MAX_TOKEN_TTL);
    assertThat(config.auth().failedAttempts()).isEqualTo(AuthConfig.DEFAULT_FAILED_ATTEMPTS);
    assertThat(config.auth().allowedOrigins()).isEmpty();
    assertThat(tuning(Map.of(), "serve").sessions()).isEqualTo(SessionApi.Settings.defaults());
  }

  @Test
  void limits_readEnvironmentVariables_andFlagsWin() {
    Map<String, String> env = Map.ofEntries(
        Map.entry("YAAD_ALLOWED_ORIGINS", "https://app.example.com"),
        Map.entry("YAAD_MAX_TOKEN_TTL", "90m"),
        Map.entry("YAAD_FAILED_AUTH_RATE", "5/m"),
        Map.entry("YAAD_BODY_IDLE_TIMEOUT", "5s"),
        Map.entry("YAAD_MIN_BODY_RATE", "0"),
        Map.entry("YAAD_MAX_CONNECTIONS_PER_IP", "0"),
        Map.entry("YAAD_USER_REQUEST_RATE", "off"),
        Map.entry("YAAD_KEY_REQUEST_RATE", "100/s"),
        Map.entry("YAAD_MAX_SESSIONS_PER_USER", "3"),
        Map.entry("YAAD_SESSION_MESSAGE_RATE", "10/10s"),
        Map.entry("YAAD_SESSION_BYTE_RATE", "1000000/s"),
        Map.entry("YAAD_SESSION_QUEUE_BYTES", "262144"),
        Map.entry("YAAD_LLM_USER_BUDGET", "200/d"));
    YaadServer.Config config = config(env, "serve");
    assertThat(config.auth().allowedOrigins()).containsExactly("https://app.example.com");
    assertThat(config.auth().maxTokenTtl()).isEqualTo(Duration.ofMinutes(90));
    assertThat(config.auth().failedAttempts()).isEqualTo(Rate.parse("5/m"));
    assertThat(config.limits()).isEqualTo(new HttpLimits(Duration.ofSeconds(5), 0, 0, Rate.OFF, Rate.parse("100/s")));
    SessionApi.Settings sessions = tuning(env, "serve").sessions();
    assertThat(sessions.maxSessionsPerUser()).isEqualTo(3);
    assertThat(sessions.messageRate()).isEqualTo(Rate.parse("10/10s"));
    assertThat(sessions.byteRate()).isEqualTo(Rate.parse("1000000/s"));
    assertThat(sessions.maxQueuedBytes()).isEqualTo(262144);
    assertThat(sessions.llmBudget()).isEqualTo(Rate.parse("200/d"));

    assertThat(tuning(env, "serve", "--llm-user-budget", "off").sessions().llmBudget()).isEqualTo(Rate.OFF);
    assertThat(config(env, "serve", "--max-token-ttl", "2h").auth().maxTokenTtl()).isEqualTo(Duration.ofHours(2));
  }

  @Test
  void badLimitValues_areUsageErrorsNamingTheOption() {
    String[][] cases = {
        {"--allowed-origins", "*"}, {"--max-token-ttl", "forever"}, {"--max-token-ttl", "10s"}, {"--failed-auth-rate", "lots"},
        {"--body-idle-timeout", "0s"}, {"--min-body-rate", "-1"}, {"--max-connections-per-ip", "-5"},
        {"--user-request-rate", "5"}, {"--key-request-rate", "5/week"}, {"--max-sessions-per-user", "0"},
        {"--session-message-rate", "x/s"}, {"--session-byte-rate", "100/s"}, {"--session-queue-bytes", "10"},
        {"--llm-user-budget", "-1/h"}};
    for (String[] c : cases) {
      // Built as serve builds them before it starts anything; a usage error is exit code 2.
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
        config(Map.of(), "serve", c[0], c[1]);
        tuning(Map.of(), "serve", c[0], c[1]);
      }).as(String.join(" ", c)).isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("'" + c[0] + "'");
    }
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
  void memorySettings_comeFromTheEnvironmentAndFlags_withTheEnginesDefaults() {
    YaadServer.Config defaults = config(Map.of(), "serve");
    assertThat(defaults.search()).isEqualTo(dev.yaad.memory.search.SearchConfig.defaults());
    assertThat(defaults.cache()).isEqualTo(dev.yaad.memory.cache.CacheConfig.defaults());
    assertThat(defaults.duplicateThreshold()).isEqualTo(dev.yaad.memory.Memories.DEFAULT_DUPLICATE_THRESHOLD);

    YaadServer.Config set = config(Map.of("YAAD_SEARCH_DENSE_WEIGHT", "0.25", "YAAD_DUPLICATE_THRESHOLD", "0.9",
        "YAAD_CACHE_L1_TTL", "PT1M", "YAAD_REDIS_URL", "redis://127.0.0.1:6390", "YAAD_SEARCH_MAX_INDEX_MIB", "32",
        "YAAD_SEARCH_DIVERSITY", "0"), "serve", "--search-neighbours", "3", "--search-question-words", "true", "--search-rrf-k", "30", "--cache-l1-max-mib", "0", "--redis-key-prefix", "yaad:other:");
    assertThat(set.search().denseWeight()).isEqualTo(0.25);
    assertThat(set.search().rrfK()).isEqualTo(30);
    assertThat(set.search().maxIndexBytes()).isEqualTo(32L * 1024 * 1024);
    assertThat(set.search().diversity()).isZero();
    assertThat(set.search().neighbours()).isEqualTo(3);
    assertThat(set.search().questionWords()).isTrue();
    assertThat(set.search().followWeight()).isEqualTo(dev.yaad.memory.search.SearchConfig.DEFAULT_FOLLOW_WEIGHT);
    assertThat(set.duplicateThreshold()).isEqualTo(0.9);
    assertThat(set.cache().l1Ttl()).isEqualTo(java.time.Duration.ofMinutes(1));
    assertThat(set.cache().l1MaxWeightBytes()).isZero();
    assertThat(set.cache().redisUrl()).isEqualTo("redis://127.0.0.1:6390");
    assertThat(set.cache().redisKeyPrefix()).isEqualTo("yaad:other:");
    assertThat(run(Map.of(), "serve", "--help").out()).contains("--search-dense-weight", "YAAD_SEARCH_DENSE_WEIGHT",
        "--duplicate-threshold", "YAAD_DUPLICATE_THRESHOLD", "--cache-l2-ttl", "YAAD_CACHE_L2_TTL");
  }

  @Test
  void badMemorySettings_areUsageErrorsNamingTheOption() {
    assertThat(run(Map.of(), "serve", "--search-bm25-b", "2")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--search-bm25-b", "between 0 and 1");
    });
    assertThat(run(Map.of("YAAD_DUPLICATE_THRESHOLD", "1.5"), "serve")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--duplicate-threshold", "1.5");
    });
    assertThat(run(Map.of(), "serve", "--cache-l1-ttl-while-redis-down", "PT10M")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--cache-l1-ttl-while-redis-down", "cannot be longer than l1Ttl");
    });
    assertThat(run(Map.of(), "serve", "--redis-url", "http://nope")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--redis-url", "redis://");
    });
  }

  static dev.yaad.voice.VoiceConfig voice(Map<String, String> env, String... args) {
    return serve(env, args).voice.config();
  }

  @Test
  void voiceMaxUtterance_fromTheEnvironmentOrTheFlag_andTooShortIsAUsageError() {
    assertThat(voice(Map.of(), "serve").maxUtterance()).isEqualTo(Duration.ofSeconds(30));
    assertThat(voice(Map.of("YAAD_VOICE_MAX_UTTERANCE_MS", "60000"), "serve").maxUtterance()).isEqualTo(Duration.ofSeconds(60));
    assertThat(voice(Map.of("YAAD_VOICE_MAX_UTTERANCE_MS", "60000"), "serve", "--voice-max-utterance-ms", "5000").maxUtterance())
        .isEqualTo(Duration.ofSeconds(5));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> voice(Map.of(), "serve", "--voice-max-utterance-ms", "500"))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("'--voice-max-utterance-ms'")
        .hasMessageContaining("at least 1 s");
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

  // --- serve: authentication ------------------------------------------------------------------

  @Test
  void serveHelp_listsAuthAndLlmOptions_butNeverTheirValues() {
    Map<String, String> env = Map.of("YAAD_API_KEYS", "key-from-env-0123456789", "YAAD_TOKEN_SECRET", "secret-from-env-0123456789-0123456789",
        "YAAD_LLM_API_KEY", "sk-llm-secret");
    Run run = run(env, "serve", "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("--api-keys", "YAAD_API_KEYS", "--token-secret", "YAAD_TOKEN_SECRET",
        "--llm-base-url", "YAAD_LLM_BASE_URL", "--llm-model", "YAAD_LLM_MODEL", "--llm-api-key", "YAAD_LLM_API_KEY");
    assertThat(run.out() + run.err()).doesNotContain("key-from-env", "secret-from-env", "sk-llm-secret");
  }

  @Test
  void config_readsAuthAndLlmFromTheEnvironment() {
    YaadServer.Config config = config(Map.of("YAAD_API_KEYS", "key-one-0123456789abcdef,key-two-0123456789abcdef",
        "YAAD_TOKEN_SECRET", "0123456789abcdef0123456789abcdef", "YAAD_LLM_BASE_URL", "http://localhost:11434/v1",
        "YAAD_LLM_MODEL", "llama3.1"), "serve");
    assertThat(config.auth().required()).isTrue();
    assertThat(config.auth().apiKeyCount()).isEqualTo(2);
    assertThat(config.auth().tokenSecretConfigured()).isTrue();
    assertThat(config.llm().configured()).isTrue();
    assertThat(config.llm().model()).isEqualTo("llama3.1");

    YaadServer.Config none = config(Map.of(), "serve");
    assertThat(none.auth().required()).isFalse();
    assertThat(none.llm().configured()).isFalse();
  }

  @Test
  void badAuthValues_areUsageErrorsThatDoNotEchoSecrets() {
    assertThat(run(Map.of(), "serve", "--api-keys", "abc")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--api-keys", "at least 16").doesNotContain("'abc'");
    });
    assertThat(run(Map.of("YAAD_TOKEN_SECRET", "shorty-secret"), "serve")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--token-secret", "32 bytes").doesNotContain("shorty-secret");
    });
    assertThat(run(Map.of(), "serve", "--llm-base-url", "localhost:11434")).satisfies(r -> {
      assertThat(r.exitCode()).isEqualTo(2);
      assertThat(r.err()).contains("--llm-base-url", "http://");
    });
  }

  @Test
  void serve_onAllInterfacesWithoutAuth_refusesWithAClearReason(@TempDir Path dir) {
    Run run = run(Map.of(), "serve", "--host", "0.0.0.0", "--port", "0", "--db-url", "jdbc:h2:file:" + dir.resolve("db"));
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).startsWith("yaad: refusing to listen on 0.0.0.0 without authentication")
        .contains("YAAD_API_KEYS", "127.0.0.1");
    assertThat(dir.resolve("db.mv.db")).doesNotExist();
  }

  // --- users export / import / delete --------------------------------------------------------

  private static String db(Path dir) {
    return "jdbc:h2:file:" + dir.resolve("data/yaad").toAbsolutePath();
  }

  private static void seed(Path dir) {
    try (var store = dev.yaad.memory.internal.store.JdbcMemoryStore.open(StoreConfig.of(db(dir)))) {
      TestWrites.insert(store, "ali", new dev.yaad.memory.NewMemory("FACT", "میرا نام علی ہے", "{\"confidence\":0.90}", null));
      TestWrites.insert(store, "ali", new dev.yaad.memory.NewMemory("PLAN", "Visiting Lahore", null, java.time.Instant.parse("2026-12-20T05:00:00Z")));
      store.putProfile("ali", "Ali from Karachi.", null);
      TestWrites.insert(store, "bob", dev.yaad.memory.NewMemory.of("GOAL", "bob's goal"));
    }
  }

  @Test
  void usersHelp_everywhere_listsTheDatabaseOptions() {
    for (String[] args : new String[][] {{"users", "--help"}, {"users", "export", "--help"}, {"users", "import", "--help"},
        {"users", "delete", "--help"}}) {
      Run run = run(Map.of(), args);
      assertThat(run.exitCode()).as(String.join(" ", args)).isZero();
      if (args.length > 2) {
        assertThat(run.out()).as(String.join(" ", args)).contains("--db-url", "--db-user", "--db-password", "--categories", "YAAD_DB_URL");
      } else {
        assertThat(run.out()).contains("export", "import", "delete");
      }
    }
    assertThat(run(Map.of(), "--help").out()).contains("serve", "users");
    assertThat(run(Map.of(), "users").exitCode()).isEqualTo(2);
  }

  @Test
  void export_writesTheProfileThenEveryMemoryOldestFirst(@TempDir Path dir) throws Exception {
    seed(dir);
    Run run = run(Map.of("YAAD_DB_URL", db(dir)), "users", "export", "ali");
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).startsWith("{\"type\":\"profile\",\"userId\":\"ali\",\"content\":\"Ali from Karachi.\"");
    assertThat(lines.get(1)).contains("\"type\":\"memory\"", "\"category\":\"FACT\"", "میرا نام علی ہے", "\"metadata\":{\"confidence\":0.90}");
    assertThat(lines.get(2)).contains("\"category\":\"PLAN\"", "\"occurredAt\":\"2026-12-20T05:00:00Z\"");
    assertThat(run.out()).doesNotContain("bob");
    assertThat(run.err()).doesNotContain("\tat ");
  }

  @Test
  void export_toAFile_andImportIntoAnotherDatabase_roundTrips(@TempDir Path dir) throws Exception {
    seed(dir.resolve("a"));
    Path file = dir.resolve("ali.jsonl");
    assertThat(run(Map.of(), "users", "export", "ali", "--out", file.toString(), "--db-url", db(dir.resolve("a"))).exitCode()).isZero();

    Run imported = run(Map.of(), "users", "import", file.toString(), "--db-url", db(dir.resolve("b")));
    assertThat(imported.exitCode()).as(imported.err()).isZero();
    assertThat(imported.out()).contains("imported user 'ali': 2 memories and the profile");

    Run again = run(Map.of(), "users", "export", "ali", "--db-url", db(dir.resolve("b")));
    List<String> original = java.nio.file.Files.readAllLines(file);
    List<String> copy = again.out().lines().toList();
    assertThat(copy).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(strip(copy.get(i))).isEqualTo(strip(original.get(i)));
    }
  }

  /** The fields an import keeps (ids, times and the profile version are assigned anew). */
  private static String strip(String line) {
    return line.replaceAll("\"(id|createdAt|updatedAt)\":\"[^\"]*\",?", "").replaceAll("\"version\":\\d+,?", "");
  }

  @Test
  void import_storesVectors_andReembedFillsInWhatWasWrittenWithout(@TempDir Path dir) throws Exception {
    seed(dir.resolve("a")); // written straight to the store: no vectors
    try (var store = dev.yaad.memory.internal.store.JdbcMemoryStore.open(StoreConfig.of(db(dir.resolve("a"))))) {
      assertThat(store.embeddedMemories("ali")).allMatch(m -> m.embedding() == null);
    }
    Run reembed = run(Map.of(), "reembed", "--db-url", db(dir.resolve("a")));
    assertThat(reembed.exitCode()).as(reembed.err()).isZero();
    assertThat(reembed.out()).contains("reembedded 3 memories of 2 users with bge-small-en-v1.5-q");
    assertThat(run(Map.of(), "reembed", "--db-url", db(dir.resolve("a"))).out()).contains("reembedded 0 memories");

    Path file = dir.resolve("ali.jsonl");
    assertThat(run(Map.of(), "users", "export", "ali", "--out", file.toString(), "--db-url", db(dir.resolve("a"))).exitCode()).isZero();
    assertThat(run(Map.of(), "users", "import", file.toString(), "--db-url", db(dir.resolve("b"))).exitCode()).isZero();
    try (var store = dev.yaad.memory.internal.store.JdbcMemoryStore.open(StoreConfig.of(db(dir.resolve("b"))))) {
      assertThat(store.embeddedMemories("ali")).hasSize(2).allMatch(m -> m.embedding() != null);
    }
  }

  @Test
  void embeddingsModel_withoutAnEndpoint_choosesTheInProcessModel_andItsDuplicateThreshold() {
    YaadServer.Config e5 = config(Map.of("YAAD_EMBEDDINGS_MODEL", "e5-small-v2-q"), "serve");
    assertThat(e5.embedder().modelId()).isEqualTo("e5-small-v2-q");
    assertThat(e5.duplicateThreshold()).isEqualTo(OnnxEmbedder.E5_DUPLICATE_THRESHOLD);
    assertThat(config(Map.of("YAAD_EMBEDDINGS_MODEL", "e5-small-v2-q"), "serve", "--duplicate-threshold", "0.97")
        .duplicateThreshold()).isEqualTo(0.97);
    YaadServer.Config byDefault = config(Map.of(), "serve");
    assertThat(byDefault.embedder().modelId()).isEqualTo(OnnxEmbedder.DEFAULT_MODEL_ID);
    assertThat(byDefault.duplicateThreshold()).isEqualTo(0.92);
    Run unknown = run(Map.of("YAAD_EMBEDDINGS_MODEL", "text-embedding-3-small"), "reembed");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err()).contains("'--embeddings-model'", "e5-small-v2-q", "needs --embeddings-base-url");
  }

  @Test
  void reembed_rejectsBadOptions() {
    assertThat(run(Map.of(), "reembed", "--help").out()).contains("--batch-size", "--embeddings-base-url", "--db-url");
    Run zero = run(Map.of(), "reembed", "--batch-size", "0");
    assertThat(zero.exitCode()).isEqualTo(2);
    assertThat(zero.err()).contains("--batch-size must be 1-1000");
    Run half = run(Map.of("YAAD_EMBEDDINGS_BASE_URL", "http://127.0.0.1:9/v1"), "reembed");
    assertThat(half.exitCode()).isEqualTo(2);
    assertThat(half.err()).contains("needs --embeddings-model");
  }

  @Test
  void import_withABadLine_namesItAndImportsNothing(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.jsonl");
    java.nio.file.Files.writeString(file, """
        {"type":"memory","userId":"zara","category":"FACT","content":"ok"}

        {"type":"memory","userId":"zara","category":"FACT","content":"ok","colour":"red"}
        """);
    Run run = run(Map.of(), "users", "import", file.toString(), "--db-url", db(dir));
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("line 3", "unknown field 'colour'", "nothing was imported");

    java.nio.file.Files.writeString(file, "{\"type\":\"memory\",\"userId\":\"zara\",\"category\":\"FACT\"\n");
    assertThat(run(Map.of(), "users", "import", file.toString(), "--db-url", db(dir)).err()).contains("line 1", "not valid JSON");
    java.nio.file.Files.writeString(file, "{\"type\":\"memo\",\"userId\":\"zara\",\"content\":\"x\"}\n");
    assertThat(run(Map.of(), "users", "import", file.toString(), "--db-url", db(dir)).err()).contains("line 1", "unknown type 'memo'");
    assertThat(run(Map.of(), "users", "import", dir.resolve("missing.jsonl").toString(), "--db-url", db(dir)).err())
        .contains("cannot read", "missing.jsonl");
  }

  @Test
  void import_isAllOrNothingPerUser_andNamesTheLineTheStoreRefused(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mixed.jsonl");
    java.nio.file.Files.writeString(file, """
        {"type":"memory","userId":"good","category":"FACT","content":"stays"}
        {"type":"memory","userId":"zara","category":"FACT","content":"first"}
        {"type":"memory","userId":"zara","category":"NOT_A_CATEGORY","content":"second"}
        {"type":"profile","userId":"zara","content":"Zara"}
        """);
    Run run = run(Map.of(), "users", "import", file.toString(), "--db-url", db(dir));
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).contains("imported user 'good': 1 memories");
    assertThat(run.err()).contains("user 'zara' was not imported", "line 3", "NOT_A_CATEGORY");
    try (var store = dev.yaad.memory.internal.store.JdbcMemoryStore.open(StoreConfig.of(db(dir)))) {
      assertThat(store.list("good", null, 10, null).items()).hasSize(1);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.profile("zara"))
          .isInstanceOf(dev.yaad.memory.NotFoundException.class);
    }
  }

  @Test
  void import_ofALoneSurrogate_isRefused_notStoredAsAQuestionMark(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("surrogate.jsonl");
    java.nio.file.Files.writeString(file, """
        {"type":"memory","userId":"zara","category":"FACT","content":"green tea"}
        {"type":"memory","userId":"zara","category":"FACT","content":"tea \\ud83c"}
        """);
    Run run = run(Map.of(), "users", "import", file.toString(), "--db-url", db(dir));
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("user 'zara' was not imported", "content contains a lone UTF-16 surrogate (U+D83C)");
    try (var store = dev.yaad.memory.internal.store.JdbcMemoryStore.open(StoreConfig.of(db(dir)))) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.profile("zara"))
          .isInstanceOf(dev.yaad.memory.NotFoundException.class);
    }
  }

  @Test
  void delete_removesTheUserOnly_andAnUnknownUserIsAnError(@TempDir Path dir) {
    seed(dir);
    Run run = run(Map.of("YAAD_DB_URL", db(dir)), "users", "delete", "ali");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("deleted user 'ali'");
    Run again = run(Map.of("YAAD_DB_URL", db(dir)), "users", "delete", "ali");
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err()).startsWith("yaad: ").contains("ali").doesNotContain("\tat ");
    assertThat(run(Map.of("YAAD_DB_URL", db(dir)), "users", "export", "bob").out()).contains("bob's goal");
    assertThat(run(Map.of("YAAD_DB_URL", db(dir)), "users", "export", "ali").exitCode()).isEqualTo(1);
  }

  @Test
  void delete_withTheServersRedis_tellsThemBeforeAndAfter_soTheyCloseTheUsersSessions(@TempDir Path dir) throws Exception {
    seed(dir);
    String prefix = "yaad-test-" + java.util.UUID.randomUUID().toString().substring(0, 8) + ":";
    List<dev.yaad.server.cluster.ClusterEvents.Event> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (var server = dev.yaad.server.cluster.ClusterEvents.redis(dev.yaad.memory.testing.Services.redisUri(), "redis", prefix)) {
      server.subscribe(heard::add); // stands for a running server's sessions
      assertThat(server.awaitConnected(Duration.ofSeconds(10))).isTrue();
      Run run = run(Map.of("YAAD_DB_URL", db(dir), "YAAD_REDIS_URL", dev.yaad.memory.testing.Services.redisUri()),
          "users", "delete", "ali", "--redis-key-prefix", prefix);
      assertThat(run.exitCode()).as(run.err()).isZero();
      assertThat(run.out()).contains("deleted user 'ali'", "running servers closed their sessions");
      dev.yaad.memory.testing.Await.until(() -> heard.size() == 2, Duration.ofSeconds(10), "both events");
    }
    assertThat(heard).containsExactly(new dev.yaad.server.cluster.ClusterEvents.UserDeleting("ali"),
        new dev.yaad.server.cluster.ClusterEvents.UserDeleted("ali"));
  }

  @Test
  void virtualThreads_getAtLeastEightCarriers_unlessTheOperatorChose() {
    Properties none = new Properties();
    Main.ensureCarriers(none, 2);
    assertThat(none.getProperty("jdk.virtualThreadScheduler.parallelism")).isEqualTo("8");
    Properties big = new Properties();
    Main.ensureCarriers(big, 32);
    assertThat(big.getProperty("jdk.virtualThreadScheduler.parallelism")).isEqualTo("32");
    Properties chosen = new Properties();
    chosen.setProperty("jdk.virtualThreadScheduler.parallelism", "3");
    Main.ensureCarriers(chosen, 2);
    assertThat(chosen.getProperty("jdk.virtualThreadScheduler.parallelism")).isEqualTo("3");
  }
}
