package dev.yaad.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A {@code redis-server} of the benchmark's own on a free loopback port, without persistence
 * (a restart comes back empty, as a cache's Redis does), that the benchmark can kill with
 * SIGKILL and start again on the same port. Never the machine's shared Redis.
 */
final class LocalRedis implements AutoCloseable {
  private final int port;
  private Process process;

  private LocalRedis(int port) {
    this.port = port;
  }

  /** @throws IllegalStateException if redis-server is not installed or does not answer */
  static LocalRedis start() throws IOException, InterruptedException {
    LocalRedis redis = new LocalRedis(LocalPostgres.freePort());
    redis.restart();
    return redis;
  }

  static boolean installed() {
    try {
      Process p = new ProcessBuilder("redis-server", "--version").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Starts it (again) and waits until it answers PING. */
  void restart() throws IOException, InterruptedException {
    process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!answersPing()) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        throw new IllegalStateException("redis-server on port " + port + " did not start");
      }
      Thread.sleep(20);
    }
  }

  /** {@code kill -9}: every connection drops at once. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  private boolean answersPing() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      socket.setSoTimeout(200);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readNBytes(7), StandardCharsets.US_ASCII).equals("+PONG\r\n");
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      kill();
    }
  }
}
