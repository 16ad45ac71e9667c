package dev.yaad.memory.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A PostgreSQL of the test's own, in a temporary directory on a free port, that the test can
 * stop, start and restart: for fault tests, which must never touch the machine's shared
 * server. As root it runs as {@code nobody} (PostgreSQL refuses root). Trust authentication,
 * user {@code postgres}, no fsync.
 */
public final class PostgresProcess implements AutoCloseable {
  private final int port;
  private final Path dir;
  private final String bin;

  private PostgresProcess(int port, Path dir, String bin) {
    this.port = port;
    this.dir = dir;
    this.bin = bin;
  }

  /** Creates a cluster and starts it; skips (or fails in CI) when PostgreSQL's binaries are not installed. */
  public static PostgresProcess start() throws IOException, InterruptedException {
    String bin = binaries();
    if (bin == null) {
      String message = "PostgreSQL's initdb and pg_ctl are not installed";
      if (Services.required()) {
        Assertions.fail(message + "; CI requires them");
      }
      System.err.println("SKIPPED: " + message + "; the PostgreSQL fault tests are skipped.");
      Assumptions.abort(message);
    }
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path dir = Files.createTempDirectory("yaad-pg-");
    PostgresProcess pg = new PostgresProcess(port, dir, bin);
    if (asRoot()) {
      run(List.of("chown", "nobody", dir.toString()));
      run(List.of("chmod", "700", dir.toString()));
    }
    pg.pg(bin + "/initdb -A trust -U postgres --no-sync -E UTF8 -D " + dir.resolve("data"));
    pg.startAgain();
    return pg;
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
  }

  public int port() {
    return port;
  }

  /** Starts it again after {@link #stop()}, and waits until it accepts connections. */
  public void startAgain() throws IOException, InterruptedException {
    pg(bin + "/pg_ctl -w -t 30 -D " + dir.resolve("data") + " -l " + dir.resolve("log") + " -o '-p " + port
        + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!accepts()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("PostgreSQL on port " + port + " did not start");
      }
      Thread.sleep(20);
    }
  }

  /** Stops it (fast: open connections are closed at once). */
  public void stop() throws IOException, InterruptedException {
    pg(bin + "/pg_ctl -w -D " + dir.resolve("data") + " -m fast stop");
  }

  /** Stops and starts it at once. */
  public void restart() throws IOException, InterruptedException {
    stop();
    startAgain();
  }

  private boolean accepts() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private void pg(String command) throws IOException, InterruptedException {
    run(asRoot() ? List.of("su", "nobody", "-s", "/bin/sh", "-c", command) : List.of("/bin/sh", "-c", command));
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
  }

  private static boolean asRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static String binaries() throws IOException {
    Path lib = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(lib)) {
      try (Stream<Path> versions = Files.list(lib)) {
        Path newest = versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
            .max(Comparator.comparing(v -> v.getFileName().toString())).orElse(null);
        if (newest != null) {
          return newest.resolve("bin").toString();
        }
      }
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "initdb")) && Files.isExecutable(Path.of(dir, "pg_ctl"))) {
        return dir;
      }
    }
    return null;
  }

  @Override
  public void close() throws Exception {
    try {
      pg(bin + "/pg_ctl -D " + dir.resolve("data") + " -m immediate stop");
    } catch (RuntimeException | IOException e) {
      // already stopped
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
