package dev.yaad.memory.testing;

import dev.yaad.testing.PostgresProcess;
import dev.yaad.testing.RedisProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The real PostgreSQL and Redis on loopback that tests talk to.
 *
 * <p>When one is not answering, its tests are skipped with a visible message on a
 * developer's machine, and fail in CI (where {@code CI} or {@code YAAD_REQUIRE_SERVICES}
 * is set), so that a missing service can never look like a pass.
 */
public final class Services {
  public static final String POSTGRES_HOST = env("YAAD_TEST_PG_HOST", "127.0.0.1");
  public static final int POSTGRES_PORT = Integer.parseInt(env("YAAD_TEST_PG_PORT", "5432"));
  public static final String POSTGRES_DATABASE = env("YAAD_TEST_PG_DATABASE", "test");
  public static final String POSTGRES_USER = env("YAAD_TEST_PG_USER", "postgres");
  public static final String REDIS_HOST = env("YAAD_TEST_REDIS_HOST", "127.0.0.1");
  public static final int REDIS_PORT = Integer.parseInt(env("YAAD_TEST_REDIS_PORT", "6379"));

  private Services() {}

  public static String postgresUrl() {
    require("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT);
    return "jdbc:postgresql://" + POSTGRES_HOST + ":" + POSTGRES_PORT + "/" + POSTGRES_DATABASE;
  }

  public static String redisUri() {
    require("Redis", REDIS_HOST, REDIS_PORT);
    return "redis://" + REDIS_HOST + ":" + REDIS_PORT;
  }

  /** A PostgreSQL of the test's own, to stop and restart; skipped (failed in CI) without PostgreSQL's programs. */
  public static PostgresProcess ownPostgres() throws IOException, InterruptedException {
    requireInstalled("PostgreSQL's initdb and pg_ctl", PostgresProcess.installed());
    return PostgresProcess.start();
  }

  /** A redis-server of the test's own, to kill, hang and restart; skipped (failed in CI) without redis-server. */
  public static RedisProcess ownRedis() throws IOException, InterruptedException {
    requireInstalled("redis-server", RedisProcess.installed());
    return RedisProcess.start();
  }

  private static void requireInstalled(String what, boolean installed) {
    if (!installed) {
      String message = what + ": not installed";
      if (required()) {
        Assertions.fail(message + "; CI requires it");
      }
      System.err.println("SKIPPED: " + message + "; the fault tests that need it are skipped.");
      Assumptions.abort(message);
    }
  }

  public static boolean required() {
    return System.getenv("CI") != null || System.getenv("YAAD_REQUIRE_SERVICES") != null;
  }

  private static void require(String name, String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 1000);
    } catch (IOException e) {
      String message = name + " is not answering on " + host + ":" + port + " (" + e.getMessage() + ")";
      if (required()) {
        Assertions.fail(message + "; CI requires it: start it (see .ci/run) and run again");
      }
      System.err.println("SKIPPED: " + message + "; its tests are skipped. Set YAAD_REQUIRE_SERVICES=1 to fail instead.");
      Assumptions.abort(message);
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
