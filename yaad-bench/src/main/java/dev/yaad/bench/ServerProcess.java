package dev.yaad.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code yaad serve} in a child JVM on the benchmark's class path, so that its CPU time and
 * heap are its own and not mixed with the load generator's. Its log goes to a file.
 */
final class ServerProcess implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private ServerProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts {@code yaad serve} with these options (a port is added) and waits until
   * {@code /ready} answers 200.
   *
   * @throws IllegalStateException if it exits or is not ready within {@code readyTimeout}
   */
  static ServerProcess start(List<String> jvmOptions, List<String> serveOptions, Path log, Duration readyTimeout)
      throws IOException, InterruptedException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.yaad.server.Main", "serve",
        "--host", "127.0.0.1", "--port", Integer.toString(port)));
    command.addAll(serveOptions);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ServerProcess server = new ServerProcess(process, port, log);
    long deadline = System.nanoTime() + readyTimeout.toNanos();
    while (server.readyStatus() != 200) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        server.close();
        throw new IllegalStateException("the Yaad server " + (process.isAlive() ? "was not ready within " + readyTimeout.toSeconds() + " s"
            : "exited with " + process.exitValue()) + "; its log: " + log + "\n" + tail(log));
      }
      Thread.sleep(200);
    }
    return server;
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  /** CPU time the server process has used so far (user + system), in nanoseconds; -1 if unknown. */
  long cpuNanos() {
    return process.toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  /** Resident set size in bytes from /proc, or -1. */
  long rssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux, or gone
    }
    return -1;
  }

  /** The HTTP status of {@code GET /ready}, or -1 if it did not answer within 2 s. */
  int readyStatus() {
    try {
      return http.send(request("/ready"), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** Every sample of {@code GET /metrics}, keyed by the line's name and labels as written; empty if it failed. */
  Map<String, Double> metrics() {
    Map<String, Double> samples = new HashMap<>();
    try {
      String body = http.send(request("/metrics"), HttpResponse.BodyHandlers.ofString()).body();
      for (String line : body.split("\n")) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int space = line.lastIndexOf(' ');
        try {
          samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
          // not a sample line
        }
      }
    } catch (IOException e) {
      // the caller sees no samples
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return samples;
  }

  private HttpRequest request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(2)).build();
  }

  /** Lines of the server's log at WARN or ERROR so far. */
  long warnings() {
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1;
    }
  }

  Path log() {
    return log;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException | java.io.UncheckedIOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** SIGTERM (the server stops its sessions and its learner in order), then SIGKILL after 60 s. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
