package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A real WebSocket client (the JDK's) for the session endpoint: collects every JSON message it receives. */
final class WsClient implements WebSocket.Listener, AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** A close frame that arrived: its code and reason. */
  record Closed(int code, String reason) {}

  private final LinkedBlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
  private final CompletableFuture<Closed> closed = new CompletableFuture<>();
  private final StringBuilder partial = new StringBuilder();
  private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
  private final java.io.ByteArrayOutputStream audio = new java.io.ByteArrayOutputStream();
  private WebSocket socket;

  private WsClient() {}

  /** Connects to {@code /api/v1/sessions?query}, with {@code Authorization: Bearer credential} unless it is null. */
  static WsClient connect(int port, String query, String credential) {
    WsClient client = new WsClient();
    try {
      client.socket = builder(credential).buildAsync(uri(port, query), client).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      return client;
    } catch (ExecutionException e) {
      throw new IllegalStateException("the upgrade failed: " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The HTTP status of a refused upgrade; fails if the upgrade succeeds. */
  static int refusedStatus(int port, String query, String credential) {
    try {
      WebSocket ws = builder(credential).buildAsync(uri(port, query), new WsClient()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      ws.abort();
      return fail("the upgrade was accepted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException refused) {
        return refused.getResponse().statusCode();
      }
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static WebSocket.Builder builder(String credential) {
    WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(WAIT);
    if (credential != null) {
      builder.header("Authorization", "Bearer " + credential);
    }
    return builder;
  }

  private static URI uri(int port, String query) {
    return URI.create("ws://127.0.0.1:" + port + SessionApi.PATH + (query == null || query.isEmpty() ? "" : "?" + query));
  }

  void send(String text) {
    socket.sendText(text, true).join();
  }

  void sendBinary(byte[] bytes) {
    socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
  }

  /** Closes from this side with {@code 1000}. */
  void closeNormally() {
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
  }

  /** Drops the TCP connection without a close frame, as a phone losing its network would. */
  void abort() {
    socket.abort();
  }

  /** The next message, whatever its type. */
  JsonNode next() {
    try {
      JsonNode m = messages.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (m == null) {
        return fail("no message within " + WAIT + (closed.isDone() ? "; closed: " + closed.getNow(null) : ""));
      }
      return m;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The next message of {@code type}; every message before it is returned in {@code skipped}, if given. */
  JsonNode next(String type, List<JsonNode> skipped) {
    while (true) {
      JsonNode m = next();
      if (m.path("type").asText().equals(type)) {
        return m;
      }
      if (skipped != null) {
        skipped.add(m);
      }
    }
  }

  JsonNode next(String type) {
    return next(type, new ArrayList<>());
  }

  /** The next message, which must be of {@code type}. */
  JsonNode expect(String type) {
    JsonNode m = next();
    assertThat(m.path("type").asText()).as("message %s", m).isEqualTo(type);
    return m;
  }

  /** Messages received and not yet taken. */
  List<JsonNode> drain() {
    List<JsonNode> rest = new ArrayList<>();
    messages.drainTo(rest);
    return rest;
  }

  /** Waits for the first message or the close, whichever comes first: true for a message (left to be read). */
  boolean awaitMessageOrClose() {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!messages.isEmpty()) {
        return true;
      }
      if (closed.isDone()) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return fail("neither a message nor a close within " + WAIT);
  }

  Closed awaitClose() {
    try {
      return closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      return fail("not closed within " + WAIT + ": " + e);
    }
  }

  boolean isClosed() {
    return closed.isDone();
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      try {
        messages.add(JSON.readTree(partial.toString()));
      } catch (Exception e) {
        closed.completeExceptionally(new AssertionError("the server sent something that is not JSON: " + partial));
      }
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  /**
   * A binary frame (reply audio): its bytes are kept ({@link #audio()}), and it takes its place
   * among the messages as {@code {"type":"binary","bytes":n}}, so a test sees what came before and after it.
   */
  @Override
  public synchronized CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    byte[] bytes = new byte[data.remaining()];
    data.get(bytes);
    binary.writeBytes(bytes);
    if (last) {
      audio.writeBytes(binary.toByteArray());
      messages.add(JSON.createObjectNode().put("type", "binary").put("bytes", binary.size()));
      binary.reset();
    }
    webSocket.request(1);
    return null;
  }

  /** Every byte of reply audio received so far. */
  synchronized byte[] audio() {
    return audio.toByteArray();
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(new Closed(statusCode, reason));
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.completeExceptionally(error);
  }

  @Override
  public void close() {
    if (socket != null && !socket.isOutputClosed()) {
      socket.abort();
    }
  }
}
