package dev.yaad.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.agent.Session;
import dev.yaad.agent.SessionState;
import dev.yaad.agent.Speech;
import dev.yaad.agent.learning.Learned;
import dev.yaad.memory.Memory;
import dev.yaad.voice.VoiceEvent;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;

/** The server's messages of the session protocol, as JSON text (one shape per {@code type}, as in docs/api.md). */
final class SessionMessages {
  private SessionMessages() {}

  static String state(Session session, SessionState state) {
    return object("state").put("state", state.name().toLowerCase(Locale.ROOT)).put("sessionId", session.id())
        .put("userId", session.userId()).toString();
  }

  static String delta(Speech speech, String text) {
    if (speech.kind() == Speech.Kind.GREETING) {
      return object("greeting_delta").put("speechId", speech.id()).put("text", text).toString();
    }
    return object("reply_delta").put("speechId", speech.id()).put("turnId", speech.turnId()).put("text", text).toString();
  }

  static String done(Speech speech, String error) {
    return object("reply_done").put("speechId", speech.id()).put("kind", kind(speech)).put("turnId", speech.turnId())
        .put("outcome", speech.outcome().name().toLowerCase(Locale.ROOT)).put("text", speech.text()).put("error", error)
        .put("firstDeltaMs", millis(speech.firstDeltaLatency())).put("durationMs", millis(speech.duration()))
        .put("learning", speech.learning() == null ? null : speech.learning().name().toLowerCase(Locale.ROOT)).toString();
  }

  static String tool(Speech speech, String name, Duration latency, boolean ok) {
    return object("tool").put("speechId", speech.id()).put("name", name).put("ms", latency.toMillis()).put("ok", ok).toString();
  }

  static String learned(Learned learned) {
    ObjectNode node = object("learned");
    ArrayNode added = node.putArray("added");
    for (Memory m : learned.added()) {
      added.add(JsonBody.JSON.valueToTree(MemoryApi.MemoryView.of(m)));
    }
    ArrayNode updated = node.putArray("updated");
    for (Memory m : learned.updated()) {
      updated.add(JsonBody.JSON.valueToTree(MemoryApi.MemoryView.of(m)));
    }
    ArrayNode deleted = node.putArray("deleted");
    for (UUID id : learned.deleted()) {
      deleted.add(id.toString());
    }
    if (learned.profile() == null) {
      node.putNull("profile");
    } else {
      node.set("profile", JsonBody.JSON.valueToTree(MemoryApi.ProfileView.of(learned.profile())));
    }
    return node.toString();
  }

  static String error(String code, String message) {
    return object("error").put("code", code).put("message", message).toString();
  }

  static String webrtcAnswer(String callId, String sdp) {
    return object("webrtc_answer").put("callId", callId).put("sdp", sdp).toString();
  }

  static String webrtcEnded(String callId, String reason) {
    return object("webrtc_ended").put("callId", callId).put("reason", reason).toString();
  }

  static String pong(JsonNode t) {
    ObjectNode node = object("pong");
    node.set("t", t);
    return node.toString();
  }

  /** The answer to {@code audio_start}: the rates in use and what the session's language gets. */
  static String audioReady(int inputRate, int outputRate, String language, boolean listen, boolean speak) {
    return object("audio_ready").put("inputRate", inputRate).put("outputRate", outputRate).put("language", language)
        .put("listen", listen).put("speak", speak).toString();
  }

  /** A voice pipeline event: its {@code type}, then the record's fields as they are named. */
  static String voice(VoiceEvent event) {
    ObjectNode node = object(event.type());
    node.setAll((ObjectNode) JsonBody.JSON.valueToTree(event));
    return node.toString();
  }

  static String kind(Speech speech) {
    return speech.kind() == Speech.Kind.GREETING ? "greeting" : "reply";
  }

  private static Long millis(Duration d) {
    return d == null ? null : d.toMillis();
  }

  private static ObjectNode object(String type) {
    return JsonBody.JSON.createObjectNode().put("type", type);
  }
}
