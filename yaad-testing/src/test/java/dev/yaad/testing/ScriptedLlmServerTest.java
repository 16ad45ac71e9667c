package dev.yaad.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The wire format, read with a plain HTTP client. */
class ScriptedLlmServerTest {
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  HttpResponse<String> post(ScriptedLlmServer server, String body) throws Exception {
    return postJson(http, server.baseUrl() + "/chat/completions", body);
  }

  /** A JSON POST to {@code url}, its answer as text. */
  static HttpResponse<String> postJson(HttpClient http, String url, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void streaming_sendsSseChunks_thenDone() throws Exception {
    try (ScriptedLlmServer server = ScriptedLlmServer.start()) {
      HttpResponse<String> r = post(server,
          "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("text/event-stream");
      assertThat(r.body()).startsWith("data: {").contains("\"delta\":{\"role\":\"assistant\",\"content\":\"I \"}")
          .contains("\"finish_reason\":\"stop\"").contains("\"usage\":{").endsWith("data: [DONE]\n\n");
    }
  }

  @Test
  void latencyAndFailures_applyToTheNextRequests() throws Exception {
    try (ScriptedLlmServer server = ScriptedLlmServer.start().latency(Duration.ofMillis(120), Duration.ZERO)) {
      server.fail(null, 1, 429);
      String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
      assertThat(post(server, body).statusCode()).isEqualTo(429);
      long start = System.nanoTime();
      HttpResponse<String> ok = post(server, body);
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body()).contains("\"object\":\"chat.completion\"", "\"finish_reason\":\"stop\"");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(120));
      assertThat(server.count(ScriptedLlmServer.Purpose.CONVERSATION)).isEqualTo(2);
    }
  }

  @Test
  void chunksAreDueFromTheRequestsArrival_soOneWrittenLateDoesNotPushBackTheNext() throws Exception {
    // Tokens due 0, 200 and 400 ms after the request arrived; the answer itself takes 1 s (a
    // starved double): all three are then late, and none waits its 200 ms after the one before.
    try (ScriptedLlmServer server = ScriptedLlmServer.start().latency(Duration.ZERO, Duration.ofMillis(200))) {
      server.rule(ScriptedLlmServer.Purpose.CONVERSATION, c -> {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return ScriptedLlmServer.Answer.text("one two three");
      });
      HttpResponse<String> r = post(server, "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertThat(r.body()).contains("\"content\":\"one \"").contains("\"content\":\"three\"");
      long[] late = server.behindScheduleMs();
      assertThat(Arrays.stream(late).sum()).isEqualTo(3);
      assertThat(Arrays.stream(late, 0, 600).sum()).as("chunks less than 600 ms late").isZero();
    }
  }

  @Test
  void onLate_tellsHowLateTheChunkTheClientWaitedForWas_withItsCall() throws Exception {
    // A starved double, as above: each answer takes 1 s. A reply's first chunk was due at once;
    // a tool call's last chunk (15 characters of arguments: two pieces) 400 ms after arrival.
    try (ScriptedLlmServer server = ScriptedLlmServer.start().latency(Duration.ZERO, Duration.ofMillis(200))) {
      List<String> messages = new CopyOnWriteArrayList<>();
      List<Long> late = new CopyOnWriteArrayList<>();
      server.onLate((call, nanos) -> {
        messages.add(call.lastUserMessage());
        late.add(nanos);
      });
      server.rule(ScriptedLlmServer.Purpose.CONVERSATION, c -> {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return c.lastUserMessage().startsWith("remember")
            ? ScriptedLlmServer.Answer.toolCall("saveMemory", "{\"content\":\"x\"}")
            : ScriptedLlmServer.Answer.text("one two three");
      });
      post(server, "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi (ref q1x1)\"}]}");
      awaitSize(late, 1);
      post(server, "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"remember x (ref q1x2)\"}]}");
      awaitSize(late, 2);
      assertThat(messages).containsExactly("hi (ref q1x1)", "remember x (ref q1x2)");
      assertThat(late.get(0)).as("the reply's first chunk").isGreaterThanOrEqualTo(Duration.ofMillis(1000).toNanos());
      assertThat(late.get(1)).as("the tool call's last chunk").isGreaterThanOrEqualTo(Duration.ofMillis(600).toNanos());
    }
  }

  /** The listener runs once the answer is written, so a client may have read it a moment before. */
  private static void awaitSize(List<?> list, int size) throws InterruptedException {
    for (int i = 0; i < 1000 && list.size() < size; i++) {
      Thread.sleep(10);
    }
    assertThat(list).hasSize(size);
  }

  @Test
  void unknownRoutesAndBadJson_areClientErrors() throws Exception {
    try (ScriptedLlmServer server = ScriptedLlmServer.start()) {
      assertThat(post(server, "not json").statusCode()).isEqualTo(400);
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/embeddings"))
          .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(404);
    }
  }

  @Test
  void purpose_isReadFromTheRequest_notFromMarkers() throws Exception {
    try (ScriptedLlmServer server = ScriptedLlmServer.start()) {
      post(server, "{\"model\":\"m\",\"response_format\":{\"type\":\"json_object\"},\"messages\":"
          + "[{\"role\":\"system\",\"content\":\"You extract long-term memories\"},{\"role\":\"user\",\"content\":\"USER: hi\"}]}");
      post(server, "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"Greet the user as their companion at the"
          + " start of a call\"},{\"role\":\"user\",\"content\":\"What you know\"}]}");
      post(server, "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"Write a short profile of the user\"},"
          + "{\"role\":\"user\",\"content\":\"- [GOAL] x\"}]}");
      post(server, "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a warm companion\"},"
          + "{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertThat(server.calls()).extracting(ScriptedLlmServer.Call::purpose).containsExactly(ScriptedLlmServer.Purpose.EXTRACT,
          ScriptedLlmServer.Purpose.GREETING, ScriptedLlmServer.Purpose.PROFILE, ScriptedLlmServer.Purpose.CONVERSATION);
    }
  }

  /**
   * One client calling again the moment it has read an answer never has two calls in flight:
   * the count must not still hold a call whose answer the client has read (a learner at its bound
   * of 4 was once seen at 5).
   */
  @Test
  void callsOneAfterAnother_areNeverTwoInFlight() throws Exception {
    try (ScriptedLlmServer server = ScriptedLlmServer.start()) {
      for (int i = 0; i < 300; i++) {
        String stream = i % 2 == 0 ? "true" : "false";
        assertThat(post(server, "{\"model\":\"m\",\"stream\":" + stream
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").statusCode()).isEqualTo(200);
      }
      assertThat(server.peakInFlight()).isEqualTo(1);
    }
  }
}
