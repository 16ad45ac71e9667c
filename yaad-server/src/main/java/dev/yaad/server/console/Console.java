package dev.yaad.server.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A conversation with the companion from a terminal ({@code yaad chat}), over the same
 * WebSocket session a web page or an app uses: the greeting, each reply as it streams, the
 * memory tools it called ({@code [searchMemories 4 ms]}) and what it learned
 * ({@code [learned + PLAN: Starts a new job on Monday]}). Each line typed (or piped in) is one
 * user turn; the next line is sent once the reply has ended, so piped input reads like a
 * conversation. End of input (Ctrl-D) or {@code /quit} ends the session; with an API key the
 * console then waits for background learning to finish and lists what it stored.
 *
 * <p>Writes only to the given writers: the conversation to {@code out}, problems to {@code err}.
 */
public final class Console {
  /** How long a greeting or reply may take before the console stops waiting for it. */
  static final Duration TURN_WAIT = Duration.ofSeconds(120);
  /** How long the console waits, after the session ends, for background learning to store what it found. */
  static final Duration LEARNING_WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final String userId;
  private final String credential;
  private final String lang;
  private final PrintWriter out;
  private final PrintWriter err;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();

  /**
   * @param base       the server, such as {@code http://127.0.0.1:8080}
   * @param userId     whom the companion talks to; with a session token, {@code null} (the token says)
   * @param credential an API key or session token, or {@code null} on an open server
   * @param lang       a BCP 47 tag such as {@code ur-PK}, or {@code null}
   */
  public Console(URI base, String userId, String credential, String lang, PrintWriter out, PrintWriter err) {
    this.base = Objects.requireNonNull(base, "base");
    this.userId = userId;
    this.credential = credential;
    this.lang = lang;
    this.out = out;
    this.err = err;
  }

  /**
   * Talks until the input ends; returns the exit code (0, or 1 with the reason on {@code err}).
   *
   * @param interactive a person types (prompt {@code you> }); else the input is echoed as the conversation goes
   */
  public int run(BufferedReader in, boolean interactive) throws IOException, InterruptedException {
    JsonNode config = get("/api/v1/config");
    if (config == null) {
      return 1;
    }
    if (!config.path("llmConfigured").asBoolean()) {
      err.println("yaad chat: the server at " + base + " has no LLM configured, so there is nobody to talk to (memories"
          + " still work). Start it with an OpenAI-compatible endpoint, for example a local Ollama:");
      err.println("  YAAD_LLM_BASE_URL=http://localhost:11434/v1 YAAD_LLM_MODEL=llama3.1 bin/yaad serve");
      err.println("or, for OpenAI, YAAD_LLM_BASE_URL=https://api.openai.com/v1 YAAD_LLM_MODEL=gpt-4o-mini YAAD_LLM_API_KEY=sk-...");
      return 1;
    }
    if (!config.path("sessionsAvailable").asBoolean()) {
      err.println("yaad chat: the server at " + base + " has an LLM but no session endpoint; it cannot hold a conversation");
      return 1;
    }
    Instant started = Instant.now();
    WebSocket socket;
    try {
      socket = connect();
    } catch (RuntimeException e) {
      err.println("yaad chat: cannot open a session at " + base + ": " + rootMessage(e));
      return 1;
    }
    String user = userId;
    // The greeting comes first; the person speaks once it has ended (or failed).
    Reply greeting = awaitSpeech("greeting", null);
    if (greeting.closed) {
      return 1;
    }
    if (greeting.user != null) {
      user = greeting.user;
    }
    int turn = 0;
    String line;
    while (true) {
      if (interactive) {
        out.print("you> ");
        out.flush();
      }
      line = in.readLine();
      if (line == null || line.strip().equals("/quit") || line.strip().equals("/exit")) {
        break;
      }
      if (line.isBlank()) {
        continue;
      }
      if (!interactive) {
        out.println("you> " + line.strip());
      }
      String id = "t-" + (++turn);
      ObjectNode message = JSON.createObjectNode().put("type", "user_text").put("id", id).put("text", line.strip());
      socket.sendText(message.toString(), true).join();
      if (awaitSpeech("reply", id).closed) {
        return 1;
      }
    }
    socket.sendText("{\"type\":\"end\"}", true).join();
    awaitClosed();
    socket.abort();
    if (user != null) {
      showLearned(user, started);
    }
    return 0;
  }

  /** What one greeting or reply ended with. */
  private record Reply(boolean closed, String user) {}

  /** Prints messages until the speech of {@code kind} (and, for replies, turn {@code turnId}) has ended. */
  private Reply awaitSpeech(String kind, String turnId) throws InterruptedException {
    boolean midLine = false;
    String user = null;
    long deadline = System.nanoTime() + TURN_WAIT.toNanos();
    while (true) {
      JsonNode m = inbox.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (m == null) {
        endLine(midLine);
        err.println("yaad chat: no answer within " + TURN_WAIT.toSeconds() + " s; giving up on this " + kind);
        return new Reply(false, user);
      }
      String type = m.path("type").asText();
      switch (type) {
        case "__end" -> {
          endLine(midLine);
          err.println("yaad chat: the server closed the session" + (m.hasNonNull("reason") ? ": " + m.get("reason").asText() : ""));
          return new Reply(true, user);
        }
        case "state" -> user = m.path("userId").asText(user);
        case "greeting_delta", "reply_delta" -> {
          if (!midLine) {
            out.print("yaad> ");
            midLine = true;
          }
          out.print(m.path("text").asText());
          out.flush();
        }
        case "tool" -> {
          endLine(midLine);
          midLine = false;
          out.println("  [" + m.path("name").asText() + " " + m.path("ms").asLong() + " ms" + (m.path("ok").asBoolean() ? "" : ", failed") + "]");
        }
        case "learned" -> {
          endLine(midLine);
          midLine = false;
          printLearned(m);
        }
        case "error" -> {
          endLine(midLine);
          midLine = false;
          String code = m.path("code").asText();
          if (code.equals("llm_unavailable")) {
            out.println("  (" + m.path("message").asText() + ")");
          } else {
            err.println("yaad chat: " + code + ": " + m.path("message").asText());
            if (turnId != null) {
              return new Reply(false, user); // the turn was refused: no reply follows
            }
          }
        }
        case "reply_done" -> {
          boolean mine = m.path("kind").asText().equals(kind) && (turnId == null || turnId.equals(m.path("turnId").asText()));
          String outcome = m.path("outcome").asText();
          endLine(midLine);
          midLine = false;
          if (outcome.equals("failed")) {
            out.println("  (the " + m.path("kind").asText() + " failed; the next line is a new try)");
          } else if (!outcome.equals("completed")) {
            out.println("  (" + outcome + ")");
          }
          if (mine) {
            return new Reply(false, user);
          }
        }
        default -> { } // pong, and message types newer than this console
      }
    }
  }

  private void printLearned(JsonNode m) {
    for (JsonNode memory : m.path("added")) {
      out.println("  [learned + " + memory.path("category").asText() + ": " + memory.path("content").asText() + "]");
    }
    for (JsonNode memory : m.path("updated")) {
      out.println("  [learned ~ " + memory.path("category").asText() + ": " + memory.path("content").asText() + "]");
    }
    for (JsonNode id : m.path("deleted")) {
      out.println("  [forgot " + id.asText() + "]");
    }
    if (m.hasNonNull("profile")) {
      out.println("  [profile: " + m.path("profile").path("content").asText() + "]");
    }
    out.flush();
  }

  private void endLine(boolean midLine) {
    if (midLine) {
      out.println();
    }
    out.flush();
  }

  private void awaitClosed() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (true) {
      JsonNode m = inbox.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (m == null || m.path("type").asText().equals("__end")) {
        return;
      }
      if (m.path("type").asText().equals("learned")) {
        printLearned(m);
      }
    }
  }

  /**
   * After the session: background learning extracts memories from its turns now. With an API
   * key the console can see the learning queue and outbox ({@code /api/v1/ops/summary}): it
   * waits until both are empty, then lists the memories stored since the chat began.
   */
  private void showLearned(String user, Instant since) throws InterruptedException {
    long deadline = System.nanoTime() + LEARNING_WAIT.toNanos();
    while (true) {
      HttpResponse<String> summary = send("/api/v1/ops/summary");
      if (summary == null || summary.statusCode() != 200) {
        out.println("(background learning goes on on the server; what it stores appears under /api/v1/users/" + user + "/memories)");
        return;
      }
      try {
        JsonNode learning = JSON.readTree(summary.body()).path("learning");
        if (learning.path("queue").asDouble(0) == 0 && learning.path("outbox").asDouble(0) == 0) {
          break;
        }
      } catch (IOException e) {
        return;
      }
      if (System.nanoTime() > deadline) {
        out.println("(background learning is still busy after " + LEARNING_WAIT.toSeconds() + " s; it goes on on the server)");
        return;
      }
      Thread.sleep(250); // polling a remote server: there is no event to wait for
    }
    JsonNode page = get("/api/v1/users/" + encode(user) + "/memories?limit=100");
    List<String> learned = new ArrayList<>();
    if (page != null) {
      for (JsonNode memory : page.path("items")) {
        if (Instant.parse(memory.path("updatedAt").asText()).isAfter(since)) {
          learned.add(memory.path("category").asText() + ": " + memory.path("content").asText());
        }
      }
    }
    if (learned.isEmpty()) {
      out.println("Learned nothing new in this conversation.");
    } else {
      out.println("Learned in this conversation:");
      learned.reversed().forEach(l -> out.println("  " + l));
    }
    out.flush();
  }

  private WebSocket connect() {
    StringBuilder query = new StringBuilder();
    if (userId != null) {
      query.append("userId=").append(encode(userId));
    }
    if (lang != null) {
      query.append(query.isEmpty() ? "" : "&").append("lang=").append(encode(lang));
    }
    String scheme = base.getScheme().equals("https") ? "wss" : "ws";
    URI uri = URI.create(scheme + "://" + base.getRawAuthority() + "/api/v1/sessions" + (query.isEmpty() ? "" : "?" + query));
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    if (credential != null) {
      builder.header("Authorization", "Bearer " + credential);
    }
    return builder.buildAsync(uri, new Listener()).join();
  }

  /** Puts every message in the inbox, in order; the console's thread reads it. */
  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          inbox.add(JSON.readTree(partial.toString()));
        } catch (IOException e) {
          err.println("yaad chat: the server sent something that is not JSON: " + partial);
        }
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      ObjectNode end = JSON.createObjectNode().put("type", "__end");
      if (status != 1000) {
        end.put("reason", status + (reason == null || reason.isBlank() ? "" : " " + reason));
      }
      inbox.add(end);
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      inbox.add(JSON.createObjectNode().put("type", "__end").put("reason", rootMessage(error)));
    }
  }

  private JsonNode get(String path) {
    HttpResponse<String> response = send(path);
    if (response == null) {
      return null;
    }
    try {
      JsonNode body = JSON.readTree(response.body());
      if (response.statusCode() != 200) {
        err.println("yaad chat: GET " + path + " answered " + response.statusCode() + ": " + body.path("message").asText(response.body()));
        return null;
      }
      return body;
    } catch (IOException e) {
      err.println("yaad chat: GET " + path + " did not answer JSON (is " + base + " a Yaad server?)");
      return null;
    }
  }

  private HttpResponse<String> send(String path) {
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
    if (credential != null) {
      request.header("Authorization", "Bearer " + credential);
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      err.println("yaad chat: cannot reach " + base + " (" + rootMessage(e) + "); is 'yaad serve' running there?");
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
