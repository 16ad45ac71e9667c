package dev.yaad.server;

import dev.yaad.memory.StoreUnavailableException;
import dev.yaad.memory.store.JdbcMemoryStore;
import dev.yaad.memory.store.MemoryStore;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.http.MemoryApi;
import io.javalin.Javalin;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Yaad server: the memory store plus the HTTP API in front of it. {@link #start()} opens
 * (and migrates) the store, then listens; {@link #stop()} stops listening, then closes the
 * store. Tests start it on port 0 and ask {@link #port()}.
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
   * @param host         the address to listen on ({@code 0.0.0.0} for all interfaces)
   * @param port         0 to 65535; 0 picks a free port
   * @param store        the database to keep memories in
   * @param maxBodyBytes the largest request body accepted; larger ones get 413
   */
  public record Config(String host, int port, StoreConfig store, long maxBodyBytes) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;

    public Config {
      Objects.requireNonNull(store, "store");
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

    /** Defaults for everything but the store: 127.0.0.1:8080, 1 MiB bodies. */
    public static Config of(StoreConfig store) {
      return new Config(DEFAULT_HOST, DEFAULT_PORT, store, MemoryApi.DEFAULT_MAX_BODY_BYTES);
    }

    public Config withAddress(String host, int port) {
      return new Config(host, port, store, maxBodyBytes);
    }
  }

  private final Config config;
  private MemoryStore store;
  private Javalin app;

  public YaadServer(Config config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /**
   * Opens the store and starts listening.
   *
   * @throws StoreUnavailableException if the database cannot be reached or migrated
   * @throws io.javalin.util.JavalinBindException if the address is in use
   * @throws IllegalStateException if already started
   */
  public synchronized YaadServer start() {
    if (app != null) {
      throw new IllegalStateException("the server is already running on port " + port());
    }
    createH2Directory(config.store().jdbcUrl());
    MemoryStore opened = JdbcMemoryStore.open(config.store());
    try {
      app = MemoryApi.app(opened, config.maxBodyBytes()).start(config.host(), config.port());
    } catch (RuntimeException e) {
      app = null;
      opened.close();
      throw e;
    }
    store = opened;
    log.info("server: listening on http://{}:{} with store {}{}", config.host(), port(), config.store().safeUrl(),
        config.store().username() == null ? "" : " as " + config.store().username());
    return this;
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

  @Override
  public void close() {
    stop();
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
