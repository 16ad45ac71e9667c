package dev.yaad.server.ops;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code GET /ready} asks: can this instance do its work right now? Holds named checks
 * (the database always; Redis and others add theirs with {@link #add}); runs them all, each
 * bounded by a timeout, and reports each by name. {@code /health} is liveness and asks nothing.
 *
 * <p>Hysteresis: a check that has passed before is reported failing only after
 * {@code failuresBeforeDown} failures in a row (one slow answer on a loaded machine is not an
 * outage); once failing, one pass (the probe) brings it back. A check that never passed
 * fails at once (a dependency missing at start is reported as such).
 *
 * {@snippet :
 * Readiness readiness = new Readiness(Duration.ofSeconds(2));
 * readiness.add("database", Readiness.sql(memories.dataSource()));
 * readiness.add("redis", () -> redis.sync().ping());
 * }
 */
public final class Readiness {
  private static final Logger log = LoggerFactory.getLogger(Readiness.class);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
  public static final int DEFAULT_FAILURES_BEFORE_DOWN = 3;

  /** One dependency's check: returns normally when it is reachable, throws when not. */
  @FunctionalInterface
  public interface Check {
    void run() throws Exception;
  }

  /** The outcome: ready only if every check passed; {@code checks} maps names to "ok" or a short reason. */
  public record Report(boolean ready, Map<String, String> checks) {}

  private final Duration timeout;
  private final int failuresBeforeDown;
  private final Map<String, Check> checks = new LinkedHashMap<>();
  /** Per check: failures in a row, or -1 while it has never passed; guarded by this. */
  private final Map<String, Integer> failuresInARow = new java.util.HashMap<>();
  private final ExecutorService runner = Executors.newVirtualThreadPerTaskExecutor();

  public Readiness(Duration timeout) {
    this(timeout, DEFAULT_FAILURES_BEFORE_DOWN);
  }

  /** @param failuresBeforeDown failures in a row before a check that passed before is reported failing, at least 1 */
  public Readiness(Duration timeout, int failuresBeforeDown) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive (was " + timeout + ")");
    }
    if (failuresBeforeDown < 1) {
      throw new IllegalArgumentException("failuresBeforeDown cannot be less than 1 (was " + failuresBeforeDown + ")");
    }
    this.timeout = timeout;
    this.failuresBeforeDown = failuresBeforeDown;
  }

  /** Adds a named check; names are unique. */
  public synchronized Readiness add(String name, Check check) {
    Objects.requireNonNull(check, "check");
    if (checks.putIfAbsent(name, check) != null) {
      throw new IllegalArgumentException("a readiness check named '" + name + "' is already registered");
    }
    return this;
  }

  /**
   * A dependency that is still starting says so with a short reason ({@code loading}) instead
   * of failing: {@code /ready} shows the reason, and the log stays quiet (nothing is wrong yet).
   */
  public static final class NotReady extends Exception {
    public NotReady(String reason) {
      super(reason, null, false, false);
    }
  }

  /**
   * A check for something loading in the background (the embedding model): {@code loading}
   * until {@code loading} completes, then ready; if it failed, {@code retry} decides (so a
   * remote model that was down at start counts as ready once it answers).
   */
  public static Check loaded(CompletableFuture<?> loading, Check retry) {
    return () -> {
      if (!loading.isDone()) {
        throw new NotReady("loading");
      }
      if (loading.isCompletedExceptionally()) {
        retry.run();
      }
    };
  }

  /**
   * A check that opens a connection of its own (not one of the store's pool, which may be
   * exhausted by load while the database is fine), with short timeouts, and runs {@code SELECT 1}.
   */
  public static Check sql(String jdbcUrl, String user, String password) {
    return () -> {
      java.util.Properties props = new java.util.Properties();
      if (user != null) {
        props.setProperty("user", user);
      }
      if (password != null) {
        props.setProperty("password", password);
      }
      if (jdbcUrl.startsWith("jdbc:postgresql:")) {
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "2");
        props.setProperty("loginTimeout", "2");
        props.setProperty("ApplicationName", "yaad-ready");
        props.setProperty("logServerErrorDetail", "false");
      }
      try (Connection c = java.sql.DriverManager.getConnection(jdbcUrl, props)) {
        selectOne(c);
      }
    };
  }

  /** A check that borrows a connection and runs {@code SELECT 1} (valid on H2 and PostgreSQL). */
  public static Check sql(DataSource dataSource) {
    return () -> {
      try (Connection c = dataSource.getConnection()) {
        selectOne(c);
      }
    };
  }

  private static void selectOne(Connection c) throws java.sql.SQLException {
    try (Statement s = c.createStatement()) {
      s.setQueryTimeout(2);
      try (ResultSet rs = s.executeQuery("SELECT 1")) {
        if (!rs.next()) {
          throw new IllegalStateException("SELECT 1 returned no row");
        }
      }
    }
  }

  /** Runs every check concurrently, each for at most the timeout. */
  public Report check() {
    Map<String, Check> current;
    synchronized (this) {
      current = new LinkedHashMap<>(checks);
    }
    Map<String, Future<?>> running = new LinkedHashMap<>();
    current.forEach((name, check) -> running.put(name, runner.submit(() -> {
      check.run();
      return null;
    })));
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, String> results = new LinkedHashMap<>();
    boolean ready = true;
    for (Map.Entry<String, Future<?>> entry : running.entrySet()) {
      String outcome;
      try {
        entry.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        outcome = "ok";
      } catch (TimeoutException e) {
        entry.getValue().cancel(true);
        outcome = "timed out after " + timeout.toMillis() + " ms";
      } catch (ExecutionException e) {
        if (e.getCause() instanceof NotReady notReady) {
          outcome = notReady.getMessage();
        } else {
          // The cause may name hosts or SQL: the log gets it, the (public) answer does not.
          log.warn("ready: check '{}' failed: {}", entry.getKey(), e.getCause().toString());
          outcome = "unreachable";
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        outcome = "interrupted";
      }
      outcome = withHysteresis(entry.getKey(), outcome);
      results.put(entry.getKey(), outcome);
      ready &= outcome.equals("ok");
    }
    return new Report(ready, results);
  }

  /** "ok" for a failure that has not yet happened {@code failuresBeforeDown} times in a row since the last pass. */
  private synchronized String withHysteresis(String name, String outcome) {
    if (outcome.equals("ok")) {
      failuresInARow.put(name, 0);
      return outcome;
    }
    int before = failuresInARow.getOrDefault(name, -1);
    if (before < 0) {
      return outcome; // never passed: starting, or missing
    }
    failuresInARow.put(name, before + 1);
    if (before + 1 < failuresBeforeDown) {
      log.debug("ready: check '{}' failed ({} of {} in a row before it counts): {}", name, before + 1, failuresBeforeDown, outcome);
      return "ok";
    }
    if (before + 1 == failuresBeforeDown) {
      log.warn("ready: check '{}' failed {} times in a row; reporting not ready until it passes", name, failuresBeforeDown);
    }
    return outcome;
  }
}
