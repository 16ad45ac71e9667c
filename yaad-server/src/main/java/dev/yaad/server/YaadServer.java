package dev.yaad.server;

import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.learning.LearningConfig;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.memory.Memories;
import dev.yaad.memory.StoreUnavailableException;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.search.ForgetRule;
import dev.yaad.memory.search.SearchConfig;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.auth.AuthConfig;
import dev.yaad.server.auth.Authenticator;
import dev.yaad.server.cluster.ClusterEvents;
import dev.yaad.server.http.HttpApp;
import dev.yaad.server.http.HttpLimits;
import dev.yaad.server.http.MemoryApi;
import dev.yaad.server.http.SessionApi;
import dev.yaad.server.ops.Metrics;
import dev.yaad.server.ops.Readiness;
import dev.yaad.voice.VoiceConfig;
import dev.yaad.webrtc.WebRtcConfig;
import io.javalin.Javalin;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Yaad server: the memory store plus the HTTP API and the web page in front of it and,
 * when an LLM is configured, the companion: the agent runtime, background learning and the
 * WebSocket session endpoint. {@link #start()} opens (and migrates) the store, starts the
 * companion, then listens; {@link #stop()} undoes it in reverse. Tests start it on port 0
 * and ask {@link #port()}.
 *
 * <p>It listens on loopback unless told otherwise, and refuses any other address while
 * authentication is off (see {@link AuthConfig}).
 *
 * {@snippet :
 * YaadServer server = new YaadServer(YaadServer.Config.of(StoreConfig.of("jdbc:h2:file:" + dir.resolve("yaad")))
 *     .withAddress("127.0.0.1", 0)).start();
 * int port = server.port();
 * server.stop();
 * }
 */
public final class YaadServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(YaadServer.class);
  /** How long {@link #stop()} waits for the embedding model to finish loading. */
  private static final Duration WARM_UP_WAIT = Duration.ofSeconds(60);

  /**
   * @param host         the address to listen on ({@code 0.0.0.0} for all interfaces; only with auth)
   * @param port         0 to 65535; 0 picks a free port
   * @param store        the database to keep memories in
   * @param maxBodyBytes the largest request body accepted; larger ones get 413
   * @param auth         API keys and the session-token secret, or {@link AuthConfig#off()}
   * @param llm          the LLM endpoint, or {@link LlmSettings#NONE}
   * @param cache        the snapshot/profile cache: Caffeine only, or with Redis as L2 and invalidation bus
   * @param embedder     the model that turns memories and queries into vectors
   * @param search       how search ranks and how much per-user state it keeps
   * @param duplicateThreshold the cosine at or above which a new memory updates one of the same category
   * @param forget       when a description matches a memory well enough to forget it (forgetMemory, learning's deletions)
   * @param limits       what one client may take: body timeouts, connections per address, request rates
   * @param voice        the speech engines and turn timing of sessions that send audio, or {@code null} for
   *                     text only (the default here; {@code yaad serve} turns it on unless {@code --voice off})
   */
  public record Config(String host, int port, StoreConfig store, long maxBodyBytes, AuthConfig auth, LlmSettings llm,
      CacheConfig cache, Embedder embedder, SearchConfig search, double duplicateThreshold, ForgetRule forget, HttpLimits limits,
      VoiceConfig voice) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;

    public Config {
      Objects.requireNonNull(store, "store");
      Objects.requireNonNull(auth, "auth");
      Objects.requireNonNull(llm, "llm");
      Objects.requireNonNull(cache, "cache");
      Objects.requireNonNull(embedder, "embedder");
      Objects.requireNonNull(search, "search");
      if (!(duplicateThreshold > 0 && duplicateThreshold <= 1)) {
        throw new IllegalArgumentException("duplicateThreshold must be in (0, 1] (was " + duplicateThreshold + ")");
      }
      Objects.requireNonNull(forget, "forget");
      Objects.requireNonNull(limits, "limits");
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

    /** The in-process cache only and the in-process embedding model. */
    public Config(String host, int port, StoreConfig store, long maxBodyBytes, AuthConfig auth, LlmSettings llm) {
      this(host, port, store, maxBodyBytes, auth, llm, CacheConfig.defaults(), OnnxEmbedder.shared(), SearchConfig.defaults(),
          Memories.DEFAULT_DUPLICATE_THRESHOLD, ForgetRule.defaults(), HttpLimits.defaults(), null);
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
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }

    public Config withAuth(AuthConfig auth) {
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }

    public Config withLlm(LlmSettings llm) {
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }

    public Config withCache(CacheConfig cache) {
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }

    public Config withEmbedder(Embedder embedder) {
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }

    public Config withSearch(SearchConfig search, double duplicateThreshold) {
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }

    public Config withForgetRule(ForgetRule forget) {
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }

    public Config withLimits(HttpLimits limits) {
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }

    /** Sessions take audio, with these engines and timing; {@code null} for text only. */
    public Config withVoice(VoiceConfig voice) {
      return new Config(host, port, store, maxBodyBytes, auth, llm, cache, embedder, search, duplicateThreshold, forget, limits, voice);
    }
  }

  /**
   * How the companion's sessions and background learning behave when an LLM is configured.
   * {@link #defaults()} is for people; tests shorten it (a learning batch of one turn, a fast
   * heartbeat).
   *
   * @param webrtc the WebRTC transport of the sessions' calls ({@code docs/webrtc.md}), or
   *     {@code null} for none (the default here; {@code yaad serve} turns it on)
   */
  public record AgentTuning(AgentConfig agent, LearningConfig learning, SessionApi.Settings sessions, WebRtcConfig webrtc) {
    public AgentTuning {
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(learning, "learning");
      Objects.requireNonNull(sessions, "sessions");
    }

    /** Without WebRTC. */
    public AgentTuning(AgentConfig agent, LearningConfig learning, SessionApi.Settings sessions) {
      this(agent, learning, sessions, null);
    }

    public static AgentTuning defaults() {
      return new AgentTuning(AgentConfig.defaults(), LearningConfig.defaults(), SessionApi.Settings.defaults());
    }

    public AgentTuning withWebRtc(WebRtcConfig webrtc) {
      return new AgentTuning(agent, learning, sessions, webrtc);
    }
  }

  private final Config config;
  private final AgentTuning tuning;
  private final Metrics metrics = new Metrics();
  private Memories memories;
  private Companion companion;
  private ClusterEvents events;
  private Javalin app;
  private CompletableFuture<Void> warmUp = CompletableFuture.completedFuture(null);

  public YaadServer(Config config) {
    this(config, AgentTuning.defaults());
  }

  public YaadServer(Config config, AgentTuning tuning) {
    this.config = Objects.requireNonNull(config, "config");
    this.tuning = Objects.requireNonNull(tuning, "tuning");
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
    StartChecks.requirePortFree(config.host(), config.port()); // before the database is opened or migrated
    createH2Directory(config.store().jdbcUrl());
    Memories opened = Memories.builder().store(config.store()).embedder(config.embedder()).cache(config.cache())
        .search(config.search()).duplicateThreshold(config.duplicateThreshold()).forgetRule(config.forget()).meterRegistry(metrics.registry()).build();
    if (opened.needsReembedding()) {
      log.warn("memory: some memories have no {} vector (stored with another embedding model, or none): search finds them"
          + " by their words only until 'yaad reembed' runs", config.embedder().modelId());
    }
    Companion started = null;
    ClusterEvents shared = config.cache().redisEnabled()
        ? ClusterEvents.redis(config.cache().redisUrl(), config.cache().safeRedisUrl(), config.cache().redisKeyPrefix())
        : ClusterEvents.local();
    Gauge.builder("yaad.cluster.events.duplicates", shared, ClusterEvents::duplicatesDropped)
        .description("events this instance heard again (its own, back from Redis) and did not deliver twice")
        .register(metrics.registry());
    Gauge.builder("yaad.cluster.events.connected", shared, e -> e.connected() ? 1 : 0)
        .description("1 while events reach the other instances over Redis").register(metrics.registry());
    try {
      // The embedding model loads in the background now rather than on the first request that needs it;
      // /ready says "embeddings: loading" until it is done.
      log.info("server: loading the embedding model {} in the background", config.embedder().modelId());
      warmUp = opened.warmUpInBackground();
      // PostgreSQL is checked over a connection of its own: the store's pool may be exhausted by load while the database is fine.
      StoreConfig store = config.store();
      Readiness.Check database = store.jdbcUrl().startsWith("jdbc:postgresql:")
          ? Readiness.sql(store.jdbcUrl(), store.username(), store.password()) : Readiness.sql(opened.dataSource());
      Readiness readiness = new Readiness(Readiness.DEFAULT_TIMEOUT).add("database", database)
          .add("embeddings", Readiness.loaded(warmUp, opened.embedder()::warmUp));
      if (config.cache().redisEnabled()) {
        // Asked on the event bus's connection (1 s), not read from the cache's state: the cache stops using Redis
        // after three 100 ms timeouts, which a starved CPU alone can cause while Redis answers (and requests are served).
        readiness.add("redis", shared::ping);
      }
      Authenticator authenticator = new Authenticator(config.auth());
      if (config.llm().configured()) {
        started = Companion.start(opened, config.llm(), config.voice(), tuning, metrics.registry(), authenticator, shared);
      }
      app = HttpApp.create(new HttpApp.Setup(opened, config.maxBodyBytes(), authenticator, metrics, readiness,
          config.llm().configured(), started == null ? null : started.sessions()::install, shared,
          started != null && started.voice() != null, started == null ? null : started.webrtc()));
      config.limits().install(app);
      app.start(config.host(), config.port());
    } catch (RuntimeException e) {
      app = null;
      if (started != null) {
        started.close();
      }
      shared.close();
      opened.close();
      throw e;
    }
    memories = opened;
    companion = started;
    events = shared;
    log.info("server: listening on http://{}:{} with store {}{}; {}; embeddings {}; {}; {}", config.host(), port(),
        config.store().safeUrl(), config.store().username() == null ? "" : " as " + config.store().username(),
        config.cache().redisEnabled() ? "cache Caffeine + Redis " + config.cache().safeRedisUrl() : "cache Caffeine (no Redis)",
        config.embedder().modelId(), authSummary(),
        config.llm().configured()
            ? "LLM at " + config.llm().baseUrl() + " (model " + (config.llm().model() == null ? LlmConfig.DEFAULT_MODEL : config.llm().model())
                + "), sessions at ws://" + config.host() + ":" + port() + SessionApi.PATH
            : "no LLM configured (set YAAD_LLM_BASE_URL): memories only, no sessions");
    if (started != null && started.voice() == null) { // else Voice.start said which engines are live
      log.info("server: voice off: sessions are text only");
    }
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

  /**
   * Stops in order: the sessions (each client gets {@code closing}, {@code closed} and close
   * code {@code 1001}), listening, the agent runtime and background learning (work not done
   * stays in the outbox for the next start), the LLM client, and last the store. Does nothing
   * if not running.
   */
  public synchronized void stop() {
    if (app == null) {
      return;
    }
    try {
      if (companion != null) {
        companion.closeSessions();
      }
      app.stop();
    } finally {
      try {
        if (companion != null) {
          companion.close();
        }
      } finally {
        awaitWarmUp();
        events.close();
        memories.close();
        app = null;
        memories = null;
        companion = null;
        events = null;
        log.info("server: stopped");
      }
    }
  }

  /**
   * Waits for the background model load that {@link #start()} began: a JVM that exits while
   * ONNX Runtime builds its session in native code crashes (see {@link OnnxEmbedder}), and a
   * caller may well exit right after {@code stop()}.
   */
  private void awaitWarmUp() {
    try {
      warmUp.get(WARM_UP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // Logged by the warm-up itself; the load is over either way.
    } catch (TimeoutException e) {
      log.warn("server: the embedding model is still loading after {} s; stopping without it", WARM_UP_WAIT.toSeconds());
    }
  }

  /** The running app, for tests that walk its registered routes (OpenApiTest); {@code null} when stopped. */
  synchronized Javalin javalin() {
    return app;
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
