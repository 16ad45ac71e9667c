package dev.yaad.memory.internal.cache;

import dev.yaad.memory.testing.Services;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A redis-server of the test's own, on a free port, that the test can kill, hang (SIGSTOP),
 * resume and restart. No persistence: a restart comes back empty, as a cache's Redis should.
 */
final class RedisProcess implements AutoCloseable {
  final int port;
  private Process process;

  private RedisProcess(int port) {
    this.port = port;
  }

  /** Starts one on a free port; skips (or fails in CI) when redis-server is not installed. */
  static RedisProcess start() throws IOException, InterruptedException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    RedisProcess redis = new RedisProcess(port);
    redis.restart();
    return redis;
  }

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  void restart() throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    try {
      process = builder.start();
    } catch (IOException e) {
      String message = "redis-server is not installed (" + e.getMessage() + ")";
      if (Services.required()) {
        Assertions.fail(message + "; CI requires it");
      }
      System.err.println("SKIPPED: " + message + "; the Redis fault tests are skipped.");
      Assumptions.abort(message);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!answersPing()) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        throw new IllegalStateException("redis-server on port " + port + " did not start");
      }
      Thread.sleep(20);
    }
  }

  /** SIGKILL: connections drop at once. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGSTOP: connections stay open, nothing answers; a hung or very slow server. */
  void hang() throws IOException, InterruptedException {
    signal("STOP");
  }

  void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  private boolean answersPing() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      socket.setSoTimeout(200);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] reply = in.readNBytes(7);
      return new String(reply, StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() throws Exception {
    if (process != null && process.isAlive()) {
      kill(); // SIGKILL ends a stopped process too
    }
  }
}
