package dev.yaad.server;

import dev.yaad.memory.MemoryService;
import dev.yaad.memory.StoreUnavailableException;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.store.JdbcMemoryStore;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.auth.Authenticator;
import dev.yaad.server.http.HttpApp;
import dev.yaad.server.http.MemoryApi;
import dev.yaad.server.ops.Metrics;
import dev.yaad.server.ops.Readiness;
import io.javalin.Javalin;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Yaad server: the memory store plus the HTTP API and the web page in front of it.
 * {@link #start()} opens (and migrates) the store, then listens; {@link #stop()} stops
 * listening, then closes the store. Tests start it on port 0 and ask {@link #port()}.
 *
 * <p>It listens on loopback unless told otherwise, and refuses any other address while
 * authentication is off (see {@link AuthConfig}).
 *
 * {@snippet :
 * YaadServer server = new YaadServer(YaadServer.Config.of(StoreConfig.of(StoreConfig.DEFAULT_H2_URL))).start();
 * int port = server.port();
 * server.stop();
 * }
 */
public final class YaadServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(YaadServer.class);

  /**
   * @param host         the address to listen on ({@code 0.0.0.0} for all interfaces; only with auth)
   * @param port         0 to 65535; 0 picks a free port
   * @param store        the database to keep memories in
   * @param maxBodyBytes the largest request body accepted; larger ones get 413
   * @param auth         API keys and the session-token secret, or {@link AuthConfig#off()}
   * @param llm          the LLM endpoint, or {@link LlmSettings#NONE}
   */
  public record Config(String host, int port, StoreConfig store, long maxBodyBytes, AuthConfig auth, LlmSettings llm) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;

    public Config {
      Objects.requireNonNull(store, "store");
      Objects.requireNonNull(auth, "auth");
      Objects.requireNonNull(llm, "llm");
      if (host == null || host.isBlank()) {
        throw new IllegalArgumentException("host cannot be blank");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be between 0 and 65535 (was " + port + ")");
      }
      if (maxBodyBytes < 1) {
        throw new IllegalArgumentException("maxBodyBytes cannot be less than 1 (was " + maxBodyBytes + ")");
      }
    }

    /** No authentication, no LLM. */
    public Config(String host, int port, StoreConfig store, long maxBodyBytes) {
      this(host, port, store, maxBodyBytes, AuthConfig.off(), LlmSettings.NONE);
    }

    /** Defaults for everything but the store: 127.0.0.1:8080, 1 MiB bodies, no auth, no LLM. */
    public static Config of(StoreConfig store) {
      return new Config(DEFAULT_HOST, DEFAULT_PORT, store, MemoryApi.DEFAULT_MAX_BODY_BYTES);
    }

    public Config withAddress(String host, int port) {
      return new Config(host, port, store, maxBodyBytes, auth, llm);
    }

    public Config withAuth(AuthConfig auth) {
      return new Config(host, port, store, maxBodyBytes, auth, llm);
    }

    public Config withLlm(LlmSettings llm) {
      return new Config(host, port, store, maxBodyBytes, auth, llm);
    }
  }

  private final Config config;
  private final Metrics metrics = new Metrics();
  private JdbcMemoryStore store;
  private Javalin app;

  public YaadServer(Config config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /**
   * The registry {@code /metrics} exposes. Components that measure (the agent runtime, the
   * caches, search) are given this one, before or after {@link #start()}.
   */
  public MeterRegistry meterRegistry() {
    return metrics.registry();
  }

  /**
   * Opens the store and starts listening.
   *
   * @throws UnsafeAddressException if the address is not loopback and authentication is off
   * @throws StoreUnavailableException if the database cannot be reached or migrated
   * @throws io.javalin.util.JavalinBindException if the address is in use
   * @throws IllegalStateException if already started
   */
  public synchronized YaadServer start() {
    if (app != null) {
      throw new IllegalStateException("the server is already running on port " + port());
    }
    boolean loopback = isLoopback(config.host());
    if (!loopback && !config.auth().required()) {
      throw new UnsafeAddressException("refusing to listen on " + config.host() + " without authentication: anyone who can"
          + " reach it could read and change every user's memories. Set YAAD_API_KEYS (--api-keys) and YAAD_TOKEN_SECRET"
          + " (--token-secret), or listen on 127.0.0.1 (--host)");
    }
    createH2Directory(config.store().jdbcUrl());
    JdbcMemoryStore opened = JdbcMemoryStore.open(config.store());
    try {
      MemoryService memories = MemoryService.builder(opened, OnnxEmbedder.shared()).build();
      // The embedding model loads in the background now rather than on the first request that needs it.
      memories.warmUpInBackground();
      Readiness readiness = new Readiness(Readiness.DEFAULT_TIMEOUT).add("database", Readiness.sql(opened.dataSource()));
      Authenticator authenticator = new Authenticator(config.auth());
      HttpApp.Setup setup = new HttpApp.Setup(opened, config.maxBodyBytes(), authenticator, metrics, readiness,
          config.llm().configured(), null /* the WebSocket session endpoint: see HttpApp.Setup#sessions */, memories);
      app = HttpApp.create(setup).start(config.host(), config.port());
    } catch (RuntimeException e) {
      app = null;
      opened.close();
      throw e;
    }
    store = opened;
    log.info("server: listening on http://{}:{} with store {}{}; {}; {}", config.host(), port(), config.store().safeUrl(),
        config.store().username() == null ? "" : " as " + config.store().username(), authSummary(),
        config.llm().configured() ? "LLM at " + config.llm().baseUrl() : "no LLM configured (set YAAD_LLM_BASE_URL)");
    if (config.auth().required() && !config.auth().tokenSecretConfigured()) {
      log.warn("server: no YAAD_TOKEN_SECRET: session tokens are signed with a random secret and stop working when this"
          + " process stops (and on other instances)");
    }
    return this;
  }

  private String authSummary() {
    AuthConfig auth = config.auth();
    if (!auth.required()) {
      return "auth OFF (loopback only: anyone on this machine can use every user's memories)";
    }
    return "auth on (" + auth.apiKeyCount() + " API key" + (auth.apiKeyCount() == 1 ? "" : "s") + ", session tokens)";
  }

  /** The port listened on (the one picked, when configured as 0). */
  public synchronized int port() {
    if (app == null) {
      throw new IllegalStateException("the server is not running");
    }
    return app.port();
  }

  /** Stops listening, then closes the store. Does nothing if not running. */
  public synchronized void stop() {
    if (app == null) {
      return;
    }
    try {
      app.stop();
    } finally {
      store.close();
      app = null;
      store = null;
      log.info("server: stopped");
    }
  }

  /** Stops the server and releases its meters. */
  @Override
  public void close() {
    stop();
    metrics.close();
  }

  /** True for 127.0.0.0/8, ::1 and names that resolve to them ({@code localhost}). */
  static boolean isLoopback(String host) {
    try {
      InetAddress[] addresses = InetAddress.getAllByName(host);
      for (InetAddress address : addresses) {
        if (!address.isLoopbackAddress()) {
          return false;
        }
      }
      return addresses.length > 0;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** Listening on this address without authentication would expose every user's data. */
  public static final class UnsafeAddressException extends IllegalStateException {
    UnsafeAddressException(String message) {
      super(message);
    }
  }

  /**
   * Creates the directory of an H2 file database (e.g. {@code ./data}) up front, so that a
   * path that cannot be created fails here with a message naming it.
   */
  private static void createH2Directory(String jdbcUrl) {
    String prefix = "jdbc:h2:file:";
    if (!jdbcUrl.startsWith(prefix)) {
      return;
    }
    String file = jdbcUrl.substring(prefix.length()).split(";", 2)[0];
    if (file.isEmpty() || file.startsWith("~")) {
      return;
    }
    Path parent = Path.of(file).toAbsolutePath().getParent();
    try {
      Files.createDirectories(parent);
    } catch (IOException e) {
      throw new StoreUnavailableException("cannot create the directory " + parent + " for the H2 database: " + e, e);
    }
  }
}
