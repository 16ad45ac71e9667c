package dev.yaad.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What the fixtures share: free loopback ports; and, as an instance, a double's JDK HTTP server
 * on one (virtual threads, an OpenAI-style base URL, scripted pauses that end when it closes)
 * with the JSON answers the doubles give.
 */
final class Loopback implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  static {
    // Streamed answers are many small writes (a token, a word, 100 ms of audio): with Nagle's
    // algorithm each one after the first waits for the client's delayed ACK (40 ms on Linux), a
    // delay a real provider does not add. The JDK server reads this once, when its first server starts.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private final HttpServer http;
  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  /** How long a scripted hang lasts at most, unless the client gives up or the server closes first. */
  private static final Duration HANG_LIMIT = Duration.ofSeconds(60);

  /** Opens when the server closes: a scripted pause or hang ends then. */
  private final CountDownLatch closed = new CountDownLatch(1);

  /** Serves every path with {@code handler} on a free loopback port; {@code what} names the double in an error. */
  Loopback(String what, HttpHandler handler) {
    try {
      http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the " + what + " on loopback: " + e.getMessage(), e);
    }
    http.createContext("/", handler);
    http.setExecutor(threads);
    http.start();
  }

  /** A loopback port that nothing listens on now. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The OpenAI-style base URL, e.g. {@code http://127.0.0.1:41234/v1}. */
  String baseUrl() {
    return "http://" + http.getAddress().getHostString() + ":" + http.getAddress().getPort() + "/v1";
  }

  /** A scripted latency: waits {@code nanos}, or less if the server closes. */
  void pause(long nanos) {
    if (nanos <= 0) {
      return;
    }
    try {
      closed.await(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits until {@link System#nanoTime()} reaches {@code deadlineNanos}, not at all if it has, or less if the server closes. */
  void pauseUntil(long deadlineNanos) {
    pause(deadlineNanos - System.nanoTime());
  }

  /** A scripted hang: returns when the server closes, or after {@link #HANG_LIMIT} (the client has given up by then). */
  void hang() {
    pause(HANG_LIMIT.toNanos());
  }

  @Override
  public void close() {
    closed.countDown();
    http.stop(0);
    threads.shutdownNow();
  }

  /** The JSON body of a POST to a path ending in {@code route}; null once 404 (another route) or 400 (not JSON) is answered. */
  static JsonNode postedJson(HttpExchange exchange, String route) throws IOException {
    String path = exchange.getRequestURI().getPath();
    if (!"POST".equals(exchange.getRequestMethod()) || !path.endsWith(route)) {
      respondJson(exchange, 404, errorJson("no route " + exchange.getRequestMethod() + " " + path));
      return null;
    }
    try (InputStream in = exchange.getRequestBody()) {
      return JSON.readTree(in);
    } catch (IOException e) {
      respondJson(exchange, 400, errorJson("request body is not JSON: " + e.getMessage()));
      return null;
    }
  }

  static void respondJson(HttpExchange exchange, int status, String json) throws IOException {
    respondJson(exchange, status, json, () -> { });
  }

  /** Answers {@code json}; {@code ending} runs just before its bytes are written. */
  static void respondJson(HttpExchange exchange, int status, String json, Runnable ending) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    ending.run();
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** An OpenAI-style error body. */
  static String errorJson(String message) {
    ObjectNode root = JSON.createObjectNode();
    root.putObject("error").put("message", message).put("type", "scripted_error");
    return root.toString();
  }
}
