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
 * {@snippet :
 * Readiness readiness = new Readiness(Duration.ofSeconds(2));
 * readiness.add("database", Readiness.sql(memories.dataSource()));
 * readiness.add("redis", () -> redis.sync().ping());
 * }
 */
public final class Readiness {
  private static final Logger log = LoggerFactory.getLogger(Readiness.class);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

  /** One dependency's check: returns normally when it is reachable, throws when not. */
  @FunctionalInterface
  public interface Check {
    void run() throws Exception;
  }

  /** The outcome: ready only if every check passed; {@code checks} maps names to "ok" or a short reason. */
  public record Report(boolean ready, Map<String, String> checks) {}

  private final Duration timeout;
  private final Map<String, Check> checks = new LinkedHashMap<>();
  private final ExecutorService runner = Executors.newVirtualThreadPerTaskExecutor();

  public Readiness(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive (was " + timeout + ")");
    }
    this.timeout = timeout;
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

  /** A check that borrows a connection and runs {@code SELECT 1} (valid on H2 and PostgreSQL). */
  public static Check sql(DataSource dataSource) {
    return () -> {
      try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
        s.setQueryTimeout(2);
        try (ResultSet rs = s.executeQuery("SELECT 1")) {
          if (!rs.next()) {
            throw new IllegalStateException("SELECT 1 returned no row");
          }
        }
      }
    };
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
      results.put(entry.getKey(), outcome);
      ready &= outcome.equals("ok");
    }
    return new Report(ready, results);
  }
}
