package dev.yaad.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL of the benchmark's own: {@code initdb} into a temporary directory, listening on
 * 127.0.0.1 at a free port, so a benchmark can stop, restart and kill it without touching the
 * machine's shared database. PostgreSQL refuses to run as root, so when this JVM is root the
 * server runs as the {@code postgres} user ({@code runuser}), owning the directory.
 *
 * <p>Trust authentication for the superuser {@code yaad}, database {@code yaad}; the directory
 * is deleted by {@link #close}.
 */
final class LocalPostgres implements AutoCloseable {
  static final String USER = "yaad";
  static final String DATABASE = "yaad";

  private final Path bin;
  private final Path dir;
  private final int port;
  private final boolean asPostgresUser;

  private LocalPostgres(Path bin, Path dir, int port, boolean asPostgresUser) {
    this.bin = bin;
    this.dir = dir;
    this.port = port;
    this.asPostgresUser = asPostgresUser;
  }

  /**
   * Creates and starts a new cluster.
   *
   * @throws IllegalStateException if PostgreSQL's programs are not installed or it does not start
   */
  static LocalPostgres create() throws IOException, InterruptedException {
    Path bin = binDirectory();
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = Files.createTempDirectory("yaad-load-pg");
    if (root) {
      run(List.of("chown", "postgres:postgres", dir.toString()), 10);
    }
    LocalPostgres pg = new LocalPostgres(bin, dir, freePort(), root);
    try {
      pg.ctl(List.of(bin.resolve("initdb").toString(), "-D", pg.data().toString(), "-U", USER, "--auth=trust",
          "-E", "UTF8", "--no-sync", "--no-instructions"), 120);
      pg.start();
      pg.createDatabase();
    } catch (IOException | InterruptedException | RuntimeException e) {
      pg.close();
      throw e;
    }
    return pg;
  }

  private void createDatabase() {
    try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), USER, null); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + DATABASE);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create the database " + DATABASE + ": " + e.getMessage(), e);
    }
  }

  /** Whether PostgreSQL's server programs are installed (a test skips without them). */
  static boolean installed() {
    try {
      binDirectory();
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  int port() {
    return port;
  }

  String jdbcUrl() {
    return jdbcUrl(DATABASE);
  }

  private String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** Starts the server (after {@link #stop}) and waits until it accepts connections. */
  void start() throws IOException, InterruptedException {
    ctl(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-l", dir.resolve("postgres.log").toString(),
        "-o", serverOptions(), "-w", "-t", "60", "start"), 90);
  }

  /** A fast shutdown: open connections are cut, the server is down until {@link #start}. */
  void stop() throws IOException, InterruptedException {
    ctl(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "fast", "-w", "-t", "60", "stop"), 90);
  }

  /** A fast restart: connections are cut and the server is back within a second or two. */
  void restart() throws IOException, InterruptedException {
    ctl(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-l", dir.resolve("postgres.log").toString(),
        "-o", serverOptions(), "-m", "fast", "-w", "-t", "60", "restart"), 90);
  }

  private String serverOptions() {
    return "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir + " -c max_connections=300";
  }

  private Path data() {
    return dir.resolve("data");
  }

  private void ctl(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (asPostgresUser) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(command);
    run(full, timeoutSeconds);
  }

  private static void run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] output = p.getInputStream().readAllBytes(); // pg_ctl start leaves no process holding our pipe (-l)
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + new String(output).strip());
    }
  }

  /** The newest {@code /usr/lib/postgresql/<version>/bin} with initdb, else the directory of initdb on the PATH. */
  private static Path binDirectory() {
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        Path found = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
            .max(Comparator.comparing(b -> versionOf(b.getParent().getFileName().toString()))).orElse(null);
        if (found != null) {
          return found;
        }
      } catch (IOException e) {
        // fall back to the PATH
      }
    }
    for (String entry : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!entry.isEmpty() && Files.isExecutable(Path.of(entry, "initdb")) && Files.isExecutable(Path.of(entry, "pg_ctl"))) {
        return Path.of(entry);
      }
    }
    throw new IllegalStateException("PostgreSQL's server programs (initdb, pg_ctl) are not installed: neither"
        + " /usr/lib/postgresql/<version>/bin nor the PATH has them");
  }

  private static int versionOf(String name) {
    try {
      return Integer.parseInt(name.split("\\.")[0]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Stops the server at once ({@code immediate}) and deletes its directory. */
  @Override
  public void close() {
    try {
      if (Files.exists(data().resolve("postmaster.pid"))) {
        ctl(List.of(bin.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate", "-w", "stop"), 60);
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("load: could not stop the benchmark's PostgreSQL in " + dir + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("load: could not delete " + dir + ": " + e.getMessage());
    }
  }
}
