package dev.yaad.testing;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.Executor;

/** What the fixtures share: free loopback ports, a JDK HTTP server on one, OpenAI-style base URLs. */
final class Loopback {
  static {
    // Streamed answers are many small writes (a token, a word, 100 ms of audio): with Nagle's
    // algorithm each one after the first waits for the client's delayed ACK (40 ms on Linux), a
    // delay a real provider does not add. The JDK server reads this once, when its first server starts.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private Loopback() {}

  /** A loopback port that nothing listens on now. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Binds a server (not yet serving) on a free loopback port. */
  static HttpServer bind(String what) {
    try {
      return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the " + what + " on loopback: " + e.getMessage(), e);
    }
  }

  /** Serves every path with {@code handler} on {@code threads}. */
  static void serve(HttpServer http, HttpHandler handler, Executor threads) {
    http.createContext("/", handler);
    http.setExecutor(threads);
    http.start();
  }

  /** The OpenAI-style base URL, e.g. {@code http://127.0.0.1:41234/v1}. */
  static String baseUrl(HttpServer http) {
    return "http://" + http.getAddress().getHostString() + ":" + http.getAddress().getPort() + "/v1";
  }
}
