package dev.yaad.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL of a test's or benchmark's own: {@code initdb} into a temporary directory,
 * listening on 127.0.0.1 at a free port, so that it can be stopped, restarted and killed without
 * touching the machine's shared server. PostgreSQL refuses to run as root, so when this JVM is
 * root the server runs as {@code nobody}, owning the directory. Trust authentication, user and
 * database {@value #USER}; the directory is deleted by {@link #close}.
 */
public final class PostgresProcess implements AutoCloseable {
  public static final String USER = "postgres";

  private final Path bin;
  private final Path dir;
  private final int port;
  private final boolean fsync;

  private PostgresProcess(Path bin, Path dir, int port, boolean fsync) {
    this.bin = bin;
    this.dir = dir;
    this.port = port;
    this.fsync = fsync;
  }

  /** Whether PostgreSQL's server programs are installed (a test skips without them). */
  public static boolean installed() {
    return binaries() != null;
  }

  /** {@link #start(boolean) start(false)}: for tests, which need no durability. */
  public static PostgresProcess start() throws IOException, InterruptedException {
    return start(false);
  }

  /**
   * Creates a cluster and starts it; {@code fsync} as a real server has it (a benchmark's
   * figures), or off.
   *
   * @throws IllegalStateException if PostgreSQL's programs are not installed or it does not start
   */
  public static PostgresProcess start(boolean fsync) throws IOException, InterruptedException {
    Path bin = binaries();
    if (bin == null) {
      throw new IllegalStateException("PostgreSQL's server programs (initdb, pg_ctl) are not installed: neither"
          + " /usr/lib/postgresql/<version>/bin nor the PATH has them");
    }
    Path dir = Files.createTempDirectory("yaad-pg-");
    PostgresProcess pg = new PostgresProcess(bin, dir, Loopback.freePort(), fsync);
    try {
      if (asRoot()) {
        run(List.of("chown", "nobody", dir.toString()));
        run(List.of("chmod", "700", dir.toString()));
      }
      pg.pg(bin.resolve("initdb") + " -A trust -U " + USER + " --no-sync -E UTF8 -D " + pg.data());
      pg.startAgain();
    } catch (IOException | InterruptedException | RuntimeException e) {
      pg.close();
      throw e;
    }
    return pg;
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + USER;
  }

  public int port() {
    return port;
  }

  /** Starts it (again, after {@link #stop}) and waits until it accepts connections. */
  public void startAgain() throws IOException, InterruptedException {
    pg(bin.resolve("pg_ctl") + " -w -t 60 -D " + data() + " -l " + dir.resolve("log") + " -o '-p " + port + " -k " + dir
        + " -c listen_addresses=127.0.0.1 -c fsync=" + (fsync ? "on" : "off") + " -c max_connections=300' start");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!accepts()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("PostgreSQL on port " + port + " did not start");
      }
      Thread.sleep(20);
    }
  }

  /** A fast shutdown: open connections are cut, the server is down until {@link #startAgain}. */
  public void stop() throws IOException, InterruptedException {
    pg(bin.resolve("pg_ctl") + " -w -t 60 -D " + data() + " -m fast stop");
  }

  /** A fast stop and a start: connections are cut and the server is back within a second or two. */
  public void restart() throws IOException, InterruptedException {
    stop();
    startAgain();
  }

  private Path data() {
    return dir.resolve("data");
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
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes()); // pg_ctl start leaves no process holding the pipe (-l)
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish within 90 s");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out.strip());
    }
  }

  private static boolean asRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** The newest {@code /usr/lib/postgresql/<version>/bin} with initdb, else the directory of initdb on the PATH. */
  private static Path binaries() {
    Path lib = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(lib)) {
      try (Stream<Path> versions = Files.list(lib)) {
        Path newest = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
            .max(Comparator.comparing(b -> versionOf(b.getParent().getFileName().toString()))).orElse(null);
        if (newest != null) {
          return newest;
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
    return null;
  }

  private static int versionOf(String name) {
    try {
      return Integer.parseInt(name.split("\\.")[0]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Stops the server at once ({@code immediate}) if it runs, and deletes its directory. */
  @Override
  public void close() {
    try {
      if (Files.exists(data().resolve("postmaster.pid"))) {
        pg(bin.resolve("pg_ctl") + " -w -D " + data() + " -m immediate stop");
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("could not stop the PostgreSQL in " + dir + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e.getMessage());
    }
  }
}
