package dev.yaad.server;

import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.http.HttpLimits;
import dev.yaad.server.http.SessionApi;
import dev.yaad.server.limit.Rate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What one client may take from {@code yaad serve}: which other web pages may open sessions,
 * how long tokens live, how fast requests and messages may come, how much of the LLM one user
 * may use. Every default is the named constant of the component that enforces it; each
 * option has an environment variable ({@link #ENV_VARS}). Rates are written {@code N/period}
 * ({@code 20/10s}, {@code 1000/h}) or {@code off}; durations as {@code 10s}, {@code 24h}.
 */
final class LimitOptions {
  /** Each option's environment variable. */
  static final Map<String, String> ENV_VARS = Map.ofEntries(
      Map.entry("--allowed-origins", "YAAD_ALLOWED_ORIGINS"),
      Map.entry("--max-token-ttl", "YAAD_MAX_TOKEN_TTL"),
      Map.entry("--failed-auth-rate", "YAAD_FAILED_AUTH_RATE"),
      Map.entry("--body-idle-timeout", "YAAD_BODY_IDLE_TIMEOUT"),
      Map.entry("--min-body-rate", "YAAD_MIN_BODY_RATE"),
      Map.entry("--max-connections-per-ip", "YAAD_MAX_CONNECTIONS_PER_IP"),
      Map.entry("--user-request-rate", "YAAD_USER_REQUEST_RATE"),
      Map.entry("--key-request-rate", "YAAD_KEY_REQUEST_RATE"),
      Map.entry("--max-sessions-per-user", "YAAD_MAX_SESSIONS_PER_USER"),
      Map.entry("--session-message-rate", "YAAD_SESSION_MESSAGE_RATE"),
      Map.entry("--session-byte-rate", "YAAD_SESSION_BYTE_RATE"),
      Map.entry("--session-queue-bytes", "YAAD_SESSION_QUEUE_BYTES"),
      Map.entry("--llm-user-budget", "YAAD_LLM_USER_BUDGET"),
      Map.entry("--learning-llm-concurrency", "YAAD_LEARNING_LLM_CONCURRENCY"),
      Map.entry("--learning-lag-warning", "YAAD_LEARNING_LAG_WARNING"),
      Map.entry("--learning-buffer-bytes", "YAAD_LEARNING_BUFFER_BYTES"),
      Map.entry("--learning-journal", "YAAD_LEARNING_JOURNAL"),
      Map.entry("--session-audio-burst", "YAAD_SESSION_AUDIO_BURST"));

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h|d)");

  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--allowed-origins", paramLabel = "ORIGINS",
      description = {"Web pages of other origins that may open sessions, comma-separated, e.g. https://app.example.com.",
          "The server's own page always may. Env YAAD_ALLOWED_ORIGINS. Default: none."})
  String allowedOrigins;

  @Option(names = "--max-token-ttl", paramLabel = "DURATION", defaultValue = "24h",
      description = "The longest a session token may live, e.g. 24h or 90m. Env YAAD_MAX_TOKEN_TTL. Default: ${DEFAULT-VALUE}.")
  String maxTokenTtl;

  @Option(names = "--failed-auth-rate", paramLabel = "RATE", defaultValue = "20/m",
      description = "Invalid credentials one client address may present before it must wait (429). Env YAAD_FAILED_AUTH_RATE. Default: ${DEFAULT-VALUE}.")
  String failedAuthRate;

  @Option(names = "--body-idle-timeout", paramLabel = "DURATION", defaultValue = "10s",
      description = "A request body that stops arriving for this long is answered 408. Env YAAD_BODY_IDLE_TIMEOUT. Default: ${DEFAULT-VALUE}.")
  String bodyIdleTimeout;

  @Option(names = "--min-body-rate", paramLabel = "BYTES/S", defaultValue = "" + HttpLimits.DEFAULT_MIN_BODY_BYTES_PER_SECOND,
      description = "A request body slower than this many bytes a second on average is answered 408; 0 for no minimum."
          + " Env YAAD_MIN_BODY_RATE. Default: ${DEFAULT-VALUE}.")
  long minBodyRate;

  @Option(names = "--max-connections-per-ip", paramLabel = "N", defaultValue = "" + HttpLimits.DEFAULT_MAX_CONNECTIONS_PER_IP,
      description = "Open connections (HTTP and WebSocket) from one client address; 0 for no limit (behind a proxy that"
          + " limits per client). Env YAAD_MAX_CONNECTIONS_PER_IP. Default: ${DEFAULT-VALUE}.")
  int maxConnectionsPerIp;

  @Option(names = "--user-request-rate", paramLabel = "RATE", defaultValue = "300/m",
      description = "REST requests on one user's routes (429 beyond). Env YAAD_USER_REQUEST_RATE. Default: ${DEFAULT-VALUE}.")
  String userRequestRate;

  @Option(names = "--key-request-rate", paramLabel = "RATE", defaultValue = "6000/m",
      description = "REST requests made with one API key (429 beyond). Env YAAD_KEY_REQUEST_RATE. Default: ${DEFAULT-VALUE}.")
  String keyRequestRate;

  @Option(names = "--max-sessions-per-user", paramLabel = "N", defaultValue = "" + SessionApi.Settings.DEFAULT_MAX_SESSIONS_PER_USER,
      description = "Open sessions of one user (the next is closed 1008). Env YAAD_MAX_SESSIONS_PER_USER. Default: ${DEFAULT-VALUE}.")
  int maxSessionsPerUser;

  @Option(names = "--session-message-rate", paramLabel = "RATE", defaultValue = "30/10s",
      description = "Messages one session may send (rate_limited beyond). Env YAAD_SESSION_MESSAGE_RATE. Default: ${DEFAULT-VALUE}.")
  String sessionMessageRate;

  @Option(names = "--session-byte-rate", paramLabel = "RATE", defaultValue = "4194304/10s",
      description = "Bytes one session may send, every frame counted. Env YAAD_SESSION_BYTE_RATE. Default: ${DEFAULT-VALUE}.")
  String sessionByteRate;

  @Option(names = "--session-queue-bytes", paramLabel = "BYTES", defaultValue = "" + SessionApi.Settings.DEFAULT_MAX_QUEUED_BYTES,
      description = "Bytes waiting to be sent to one session's client before it counts as too slow (closed 1013)."
          + " Env YAAD_SESSION_QUEUE_BYTES. Default: ${DEFAULT-VALUE}.")
  long sessionQueueBytes;

  @Option(names = "--llm-user-budget", paramLabel = "RATE", defaultValue = "1000/h",
      description = "Model answers (greetings and replies) one user may have; off for no budget. Env YAAD_LLM_USER_BUDGET."
          + " Default: ${DEFAULT-VALUE}.")
  String llmUserBudget;

  @Option(names = "--learning-llm-concurrency", paramLabel = "N", defaultValue = "" + LearningConfig.DEFAULT_LLM_CONCURRENCY,
      description = "The most background learning LLM calls (memory extraction, profile refresh) in flight at once, 1..10000;"
          + " learning starts at 8 and adapts between 2 and this (more while it waits and live replies stay fast, fewer"
          + " when they slow down); size it to what the LLM serves in parallel. Env YAAD_LEARNING_LLM_CONCURRENCY."
          + " Default: ${DEFAULT-VALUE}.")
  int learningLlmConcurrency;

  @Option(names = "--learning-lag-warning", paramLabel = "DURATION", defaultValue = "2m",
      description = "Learning lag (age of the oldest turn not yet learned) that is logged as a warning."
          + " Env YAAD_LEARNING_LAG_WARNING. Default: ${DEFAULT-VALUE}.")
  String learningLagWarning;

  @Option(names = "--learning-buffer-bytes", paramLabel = "BYTES", defaultValue = "" + LearningConfig.DEFAULT_TURN_BUFFER_BYTES,
      description = "Finished turns held in memory while the database cannot take them (stopped, restarting, pool exhausted);"
          + " beyond it a turn is dropped and its reply_done says learning: dropped. Env YAAD_LEARNING_BUFFER_BYTES."
          + " Default: ${DEFAULT-VALUE}.")
  long learningBufferBytes;

  @Option(names = "--learning-journal", paramLabel = "DIR", defaultValue = "data/turn-journal",
      description = {"Directory where the turns held in memory (see --learning-buffer-bytes) are also appended, so that a crash",
          "of the process does not lose them: the next start writes them to the outbox; off for none. Each process keeps",
          "a file of its own there. Env YAAD_LEARNING_JOURNAL. Default: ${DEFAULT-VALUE}."})
  String learningJournal;

  @Option(names = "--session-audio-burst", paramLabel = "DURATION", defaultValue = "5s",
      description = {"How far ahead of real time one session's audio may run (it may always arrive 1.25 times as fast);",
          "beyond it the client is closed 4429. Env YAAD_SESSION_AUDIO_BURST. Default: ${DEFAULT-VALUE}."})
  String sessionAudioBurst;

  /** {@code auth} with the origins, the token lifetime and the failed-attempt limit given here. */
  AuthConfig auth(AuthConfig auth) {
    try {
      auth = auth.withAllowedOrigins(allowedOrigins);
    } catch (IllegalArgumentException e) {
      throw invalid("--allowed-origins", e);
    }
    Duration ttl = duration("--max-token-ttl", maxTokenTtl);
    try {
      auth = auth.withMaxTokenTtl(ttl);
    } catch (IllegalArgumentException e) {
      throw invalid("--max-token-ttl", e);
    }
    return auth.withFailedAttempts(rate("--failed-auth-rate", failedAuthRate));
  }

  HttpLimits http() {
    Duration idle = duration("--body-idle-timeout", bodyIdleTimeout);
    try {
      return new HttpLimits(idle, minBodyRate, maxConnectionsPerIp, rate("--user-request-rate", userRequestRate),
          rate("--key-request-rate", keyRequestRate));
    } catch (IllegalArgumentException e) {
      throw invalid(e.getMessage().startsWith("minBody") ? "--min-body-rate" : e.getMessage().startsWith("maxConnections")
          ? "--max-connections-per-ip" : "--body-idle-timeout", e);
    }
  }

  SessionApi.Settings sessions() {
    SessionApi.Settings defaults = SessionApi.Settings.defaults();
    Rate messages = rate("--session-message-rate", sessionMessageRate);
    Rate bytes = rate("--session-byte-rate", sessionByteRate);
    Rate budget = rate("--llm-user-budget", llmUserBudget);
    try {
      return defaults.withLimits(defaults.maxSessions(), maxSessionsPerUser, sessionQueueBytes).withRates(messages, bytes, budget)
          .withAudioBurst(duration("--session-audio-burst", sessionAudioBurst));
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      throw invalid(message.startsWith("maxQueuedBytes") ? "--session-queue-bytes" : message.startsWith("byteRate")
          ? "--session-byte-rate" : message.startsWith("audioBurst") ? "--session-audio-burst" : "--max-sessions-per-user", e);
    }
  }

  /** {@code defaults} with the learning concurrency, lag warning, turn buffer and journal given here. */
  LearningConfig learning(LearningConfig defaults) {
    Duration lagWarning = duration("--learning-lag-warning", learningLagWarning);
    try {
      defaults = defaults.withLagWarning(lagWarning);
    } catch (IllegalArgumentException e) {
      throw invalid("--learning-lag-warning", e);
    }
    if (!learningJournal.isBlank() && !learningJournal.strip().equalsIgnoreCase("off")) {
      try {
        defaults = defaults.withTurnJournal(Path.of(learningJournal.strip()));
      } catch (java.nio.file.InvalidPathException e) {
        throw invalid("--learning-journal", e);
      }
    }
    try {
      defaults = defaults.withTurnBuffer(learningBufferBytes);
    } catch (IllegalArgumentException e) {
      throw invalid("--learning-buffer-bytes", e);
    }
    try {
      return defaults.withConcurrency(learningLlmConcurrency, defaults.queueCapacity());
    } catch (IllegalArgumentException e) {
      throw invalid("--learning-llm-concurrency", e);
    }
  }

  private Rate rate(String option, String text) {
    try {
      return Rate.parse(text);
    } catch (IllegalArgumentException e) {
      throw invalid(option, e);
    }
  }

  private Duration duration(String option, String text) {
    Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': '" + text
          + "' is not a duration; write a whole number and a unit ms, s, m, h or d, such as 10s or 24h");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  private ParameterException invalid(String option, IllegalArgumentException e) {
    return new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + e.getMessage());
  }
}
