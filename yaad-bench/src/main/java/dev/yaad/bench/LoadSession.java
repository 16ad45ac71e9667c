package dev.yaad.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One simulated caller of the {@code load} benchmark: a WebSocket session of its own user that
 * waits for the greeting, then says something every think time (a share of turns ask the
 * companion to remember a fact, which the scripted model answers with a {@code saveMemory}
 * call; a smaller share asks what it knows, a {@code getCompleteUserInfo} call) until the run
 * ends, and then ends the session. If the server closes the connection, it reconnects.
 *
 * <p>Every turn carries a marker {@code (ref q<session>x<turn>)} in its text: the scripted
 * model's extraction rule shows which turns were learned. The scripted model leaves the marker
 * out of what it saves and extracts, as a real one would, so a stored memory is found by its
 * user and text. What it sees goes into the shared {@link Observed}.
 */
final class LoadSession implements WebSocket.Listener {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final Duration REPLY_TIMEOUT = Duration.ofSeconds(90);

  enum Kind { CHAT, SAVE, RECALL }

  record Turn(long sentNanos, String marker, Kind kind, long scriptedNanos, long firstDeltaNanos, String outcome) {}

  record Greeting(long openNanos, long firstDeltaNanos, String outcome) {}

  /** @param remembered for a fact to remember, its user and text ({@link #memoryKey}); else null */
  record Tool(long nanos, String name, long ms, boolean ok, String remembered) {}

  /** How the accounting names a memory: its user and its text. */
  static String memoryKey(String userId, String content) {
    return userId + "\u0000" + content;
  }

  record Failure(long nanos, String code) {}

  /** What every session saw, appended concurrently. */
  static final class Observed {
    final ConcurrentLinkedQueue<Turn> turns = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Greeting> greetings = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Tool> tools = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Failure> errors = new ConcurrentLinkedQueue<>();
    /** The first message seen of each error code, to tell what it was. */
    final Map<String, String> examples = new ConcurrentHashMap<>();

    void error(String code) {
      errors.add(new Failure(System.nanoTime(), code));
    }

    void error(String code, String example) {
      error(code);
      examples.putIfAbsent(code, example);
    }
  }

  /**
   * How sessions talk: shares of turn kinds, think time, and the scripted latencies (to compute each turn's share): the
   * model's, and the embeddings provider's (0 for the server's in-process model, whose time is the server's own).
   */
  record Script(double saveShare, double recallShare, int thinkMs, long ttftNanos, long perTokenNanos, long embedNanos) {}

  private record Message(long nanos, JsonNode json) {}

  private final int index;
  private final String userId;
  private final HttpClient http;
  private final URI base;
  private final Script script;
  private final Observed record;
  private final Random random;
  private final BlockingQueue<Message> inbox = new LinkedBlockingQueue<>();
  private final StringBuilder partial = new StringBuilder();
  private int turnNumber;

  LoadSession(int index, String userId, HttpClient http, URI base, Script script, Observed record, long seed) {
    this.index = index;
    this.userId = userId;
    this.http = http;
    this.base = base;
    this.script = script;
    this.record = record;
    this.random = new Random(seed);
  }

  /** Talks until {@code endNanos}, then ends the session. */
  void run(long endNanos) throws InterruptedException {
    while (System.nanoTime() < endNanos) {
      WebSocket ws = connect();
      if (ws == null) {
        Thread.sleep(1000); // counted as an error; try again, as a client would
        continue;
      }
      if (!converse(ws, endNanos)) {
        continue; // closed under us: reconnect
      }
      end(ws);
      return;
    }
  }

  private WebSocket connect() throws InterruptedException {
    inbox.clear();
    long start = System.nanoTime();
    WebSocket ws;
    try {
      ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
          .buildAsync(base.resolve("/api/v1/sessions?userId=" + userId), this).get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException h) {
        record.error("http_" + h.getResponse().statusCode(), String.valueOf(h.getResponse().body()));
      } else {
        record.error("connect_failed", String.valueOf(e.getCause()));
      }
      return null;
    } catch (TimeoutException e) {
      record.error("connect_timeout");
      return null;
    }
    // The greeting: connection open -> first greeting text, then its end.
    long firstDelta = 0;
    long deadline = System.nanoTime() + REPLY_TIMEOUT.toNanos();
    while (true) {
      Message m = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (m == null) {
        record.error("greeting_timeout");
        record.greetings.add(new Greeting(start, firstDelta, "timeout"));
        return ws;
      }
      String type = m.json.path("type").asText();
      if (type.equals("greeting_delta") && firstDelta == 0) {
        firstDelta = m.nanos;
      } else if (type.equals("reply_done") && m.json.path("kind").asText().equals("greeting")) {
        record.greetings.add(new Greeting(start, firstDelta, m.json.path("outcome").asText()));
        return ws;
      } else if (!common(m)) {
        record.greetings.add(new Greeting(start, firstDelta, "closed"));
        return null;
      }
    }
  }

  /** Turns until the end; false if the connection closed on the way. */
  private boolean converse(WebSocket ws, long endNanos) throws InterruptedException {
    while (true) {
      long think = (long) (script.thinkMs() * (0.5 + random.nextDouble())) * 1_000_000L;
      long wake = System.nanoTime() + think;
      if (wake >= endNanos) {
        return drainUntil(endNanos);
      }
      if (!drainUntil(wake)) {
        return false;
      }
      if (!turn(ws)) {
        return false;
      }
    }
  }

  /** Handles what arrives while the caller thinks; false if the connection closed. */
  private boolean drainUntil(long untilNanos) throws InterruptedException {
    for (long left; (left = untilNanos - System.nanoTime()) > 0; ) {
      Message m = inbox.poll(left, TimeUnit.NANOSECONDS);
      if (m != null && !common(m)) {
        return false;
      }
    }
    return true;
  }

  private boolean turn(WebSocket ws) throws InterruptedException {
    String id = "t-" + ++turnNumber;
    String marker = "q" + index + "x" + turnNumber;
    double dice = random.nextDouble();
    Kind kind = dice < script.saveShare() ? Kind.SAVE : dice < script.saveShare() + script.recallShare() ? Kind.RECALL : Kind.CHAT;
    String text;
    String remembered = null;
    long scripted;
    switch (kind) {
      case SAVE -> {
        String fact = LoadTexts.fact(index, turnNumber, random);
        text = "remember that " + fact + " (ref " + marker + ")";
        remembered = memoryKey(userId, fact);
        // The scripted model calls saveMemory (first token, then its arguments 8 characters a token), the tool
        // embeds the fact (one request to a remote provider), then the model answers.
        String args = JSON.createObjectNode().put("category", "FACT").put("content", fact).toString();
        scripted = 2 * script.ttftNanos() + (args.length() + 7) / 8 * script.perTokenNanos() + script.embedNanos();
      }
      case RECALL -> {
        text = "what do you know about me? (ref " + marker + ")";
        scripted = 2 * script.ttftNanos() + script.perTokenNanos();
      }
      default -> {
        text = LoadTexts.chat(random) + " (ref " + marker + ")";
        scripted = script.ttftNanos();
      }
    }
    ObjectNode message = JSON.createObjectNode().put("type", "user_text").put("id", id).put("text", text);
    long sent = System.nanoTime();
    try {
      ws.sendText(message.toString(), true).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      record.error("send_failed");
      ws.abort();
      return false;
    }
    long firstDelta = 0;
    long deadline = sent + REPLY_TIMEOUT.toNanos();
    while (true) {
      Message m = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (m == null) {
        record.error("reply_timeout");
        record.turns.add(new Turn(sent, marker, kind, scripted, firstDelta, "timeout"));
        return true;
      }
      JsonNode json = m.json;
      String type = json.path("type").asText();
      boolean ours = id.equals(json.path("turnId").asText(null));
      if (type.equals("reply_delta") && ours && firstDelta == 0) {
        firstDelta = m.nanos;
      } else if (type.equals("tool")) {
        record.tools.add(new Tool(m.nanos, json.path("name").asText(), json.path("ms").asLong(), json.path("ok").asBoolean(), remembered));
      } else if (type.equals("reply_done") && ours) {
        record.turns.add(new Turn(sent, marker, kind, scripted, firstDelta, json.path("outcome").asText()));
        return true;
      } else if (!common(m)) {
        record.turns.add(new Turn(sent, marker, kind, scripted, firstDelta, "closed"));
        return false;
      }
    }
  }

  /** Errors and closes, whenever they come; false if the connection is gone. */
  private boolean common(Message m) {
    switch (m.json.path("type").asText()) {
      case "error" -> record.error(m.json.path("code").asText("unknown"), m.json.path("message").asText());
      case "_closed" -> {
        record.error("closed_" + m.json.path("code").asInt());
        return false;
      }
      case "_error" -> {
        record.error("socket_error", m.json.path("message").asText());
        return false;
      }
      default -> { }
    }
    return true;
  }

  private void end(WebSocket ws) throws InterruptedException {
    try {
      ws.sendText("{\"type\":\"end\"}", true).get(10, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (true) {
        Message m = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (m == null) {
          record.error("end_timeout");
          break;
        }
        String type = m.json.path("type").asText();
        if (type.equals("_closed") || type.equals("_error")) {
          break;
        }
        common(m);
      }
    } catch (ExecutionException | TimeoutException e) {
      record.error("send_failed");
    } finally {
      ws.abort();
    }
  }

  // ---------------------------------------------------------------- WebSocket.Listener (HttpClient threads)

  @Override
  public void onOpen(WebSocket ws) {
    ws.request(1);
  }

  @Override
  public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
    long now = System.nanoTime();
    partial.append(data);
    if (last) {
      try {
        inbox.add(new Message(now, JSON.readTree(partial.toString())));
      } catch (IOException e) {
        inbox.add(new Message(now, JSON.createObjectNode().put("type", "error").put("code", "client_unparseable")));
      }
      partial.setLength(0);
    }
    ws.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
    inbox.add(new Message(System.nanoTime(), JSON.createObjectNode().put("type", "_closed").put("code", statusCode)));
    return null;
  }

  @Override
  public void onError(WebSocket ws, Throwable error) {
    inbox.add(new Message(System.nanoTime(), JSON.createObjectNode().put("type", "_error").put("message", error.toString())));
  }
}
