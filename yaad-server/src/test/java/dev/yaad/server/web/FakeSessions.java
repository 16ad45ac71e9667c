package dev.yaad.server.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.store.MemoryStore;
import dev.yaad.server.auth.Access;
import dev.yaad.server.auth.Authenticator;
import io.javalin.Javalin;
import io.javalin.websocket.WsContext;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A stand-in for the WebSocket session endpoint, speaking the protocol of docs/api.md
 * ("Sessions (WebSocket)") from a fixed script, so the page's client side can be tested
 * before the agent runtime is wired in: it greets, echoes each turn as a streamed reply
 * after a tool call, stores the turn as a memory and sends {@code learned}. The real
 * endpoint replaces it; the browser scenarios stay.
 */
final class FakeSessions {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String USER = "yaad.session.user";

  private FakeSessions() {}

  static Consumer<Javalin> endpoint(MemoryStore store, Authenticator authenticator) {
    return app -> {
      app.wsBeforeUpgrade("/api/v1/sessions", ctx -> ctx.attribute(USER, Access.sessionUser(ctx, authenticator)));
      AtomicInteger speeches = new AtomicInteger();
      app.ws("/api/v1/sessions", ws -> {
        ws.onConnect(ctx -> {
          String user = ctx.attribute(USER);
          send(ctx, state("connecting", user));
          send(ctx, state("active", user));
          String id = "g-" + speeches.incrementAndGet();
          for (String part : new String[] {"Assalam-o-alaikum! ", "Good to hear from you again."}) {
            send(ctx, JSON.createObjectNode().put("type", "greeting_delta").put("speechId", id).put("text", part));
          }
          send(ctx, done(id, "greeting", null, "Assalam-o-alaikum! Good to hear from you again."));
        });
        ws.onMessage(ctx -> {
          String user = ctx.attribute(USER);
          JsonNode message;
          try {
            message = JSON.readTree(ctx.message());
          } catch (Exception e) {
            send(ctx, error("invalid_message", "not JSON"));
            return;
          }
          switch (message.path("type").asText()) {
            case "user_text" -> {
              String text = message.path("text").asText();
              String turn = message.path("id").isTextual() ? message.path("id").asText() : null;
              String id = "r-" + speeches.incrementAndGet();
              send(ctx, JSON.createObjectNode().put("type", "tool").put("speechId", id).put("name", "searchMemories").put("ms", 3).put("ok", true));
              String reply = "I will remember that: " + text;
              for (String part : new String[] {"I will ", "remember that: ", text}) {
                send(ctx, JSON.createObjectNode().put("type", "reply_delta").put("speechId", id).put("turnId", turn).put("text", part));
                pause();
              }
              send(ctx, done(id, "reply", turn, reply));
              Memory learned = store.add(user, NewMemory.of("PLAN", text));
              ObjectNode event = JSON.createObjectNode().put("type", "learned");
              event.putArray("added").add(memory(learned));
              event.putArray("updated");
              event.putArray("deleted");
              event.putNull("profile");
              send(ctx, event);
            }
            case "ping" -> send(ctx, JSON.createObjectNode().put("type", "pong").set("t", message.get("t")));
            case "interrupt" -> { }
            case "end" -> {
              send(ctx, state("closing", user));
              send(ctx, state("closed", user));
              ctx.closeSession(1000, "ended");
            }
            default -> send(ctx, error("invalid_message", "unknown message type '" + message.path("type").asText() + "'"));
          }
        });
      });
    };
  }

  private static ObjectNode state(String state, String user) {
    return JSON.createObjectNode().put("type", "state").put("state", state).put("sessionId", "fake-session").put("userId", user);
  }

  private static ObjectNode done(String id, String kind, String turn, String text) {
    return JSON.createObjectNode().put("type", "reply_done").put("speechId", id).put("kind", kind).put("turnId", turn)
        .put("outcome", "completed").put("text", text).putNull("error").put("firstDeltaMs", 5).put("durationMs", 120);
  }

  private static ObjectNode error(String code, String message) {
    return JSON.createObjectNode().put("type", "error").put("code", code).put("message", message);
  }

  private static ObjectNode memory(Memory m) {
    ObjectNode node = JSON.createObjectNode().put("id", m.id().toString()).put("userId", m.userId()).put("category", m.category())
        .put("content", m.content()).put("occurredAt", (String) null).put("createdAt", m.createdAt().toString())
        .put("updatedAt", m.updatedAt().toString());
    node.putObject("metadata");
    return node;
  }

  private static void send(WsContext ctx, ObjectNode message) {
    ctx.send(message.toString());
  }

  private static void pause() {
    try {
      Thread.sleep(60);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
