package dev.yaad.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.yaad.memory.internal.Vectors;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI-compatible adapter against a real HTTP server on loopback that speaks
 * {@code POST /v1/embeddings}; a script decides each answer (an error status, a delay, or
 * vectors computed from the input), so the adapter's real client code runs end to end.
 */
class OpenAiEmbedderTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the server does with the next request; when the script is empty it answers normally. */
  private sealed interface Step {}

  private record Fail(int status, String retryAfter) implements Step {}

  /** No answer until the test ends: the client's timeout, whatever it is, runs out first. */
  private record Stall() implements Step {}

  private HttpServer server;
  private final Deque<Step> script = new ArrayDeque<>();
  private final List<JsonNode> requests = Collections.synchronizedList(new ArrayList<>());
  private final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());
  private final CountDownLatch testOver = new CountDownLatch(1);

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v1/embeddings", this::answer);
    server.start();
  }

  @AfterEach
  void stop() {
    testOver.countDown();
    server.stop(0);
  }

  private void answer(HttpExchange exchange) throws IOException {
    JsonNode request = JSON.readTree(exchange.getRequestBody());
    requests.add(request);
    authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
    Step step;
    synchronized (script) {
      step = script.poll();
    }
    if (step instanceof Stall) {
      try {
        testOver.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (step instanceof Fail fail) {
      if (fail.retryAfter() != null) {
        exchange.getResponseHeaders().add("Retry-After", fail.retryAfter());
      }
      send(exchange, fail.status(), "{\"error\":{\"message\":\"scripted failure\"}}");
      return;
    }
    ObjectNode body = JSON.createObjectNode();
    body.put("object", "list");
    body.put("model", request.path("model").asText());
    ArrayNode data = body.putArray("data");
    JsonNode input = request.path("input");
    // Answer in reverse order: the protocol's "index" field, not the position, says which is which.
    for (int i = input.size() - 1; i >= 0; i--) {
      ObjectNode item = data.addObject();
      item.put("object", "embedding");
      item.put("index", i);
      ArrayNode v = item.putArray("embedding");
      String text = input.get(i).asText();
      v.add(text.length()).add(3.0).add(4.0 * (i + 1));
    }
    send(exchange, 200, body.toString());
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  private OpenAiEmbedder.Builder embedder() {
    return OpenAiEmbedder.builder()
        .baseUrl("http://127.0.0.1:" + server.getAddress().getPort() + "/v1")
        .apiKey("sk-test").model("test-embedding").initialBackoff(Duration.ofMillis(10));
  }

  private void plan(Step... steps) {
    synchronized (script) {
      script.addAll(List.of(steps));
    }
  }

  @Test
  void embed_batchesRequestsAndKeepsInputOrder() {
    OpenAiEmbedder embedder = embedder().batchSize(2).build();

    List<float[]> vectors = embedder.embed(List.of("a", "bb", "ccc", "dddd", "eeeee"));

    assertThat(requests).hasSize(3);
    assertThat(requests.getFirst().path("input")).hasSize(2);
    assertThat(requests.getFirst().path("model").asText()).isEqualTo("test-embedding");
    assertThat(requests.getFirst().path("encoding_format").asText()).isEqualTo("float");
    assertThat(authorizations).containsOnly("Bearer sk-test");
    assertThat(vectors).hasSize(5);
    for (int i = 0; i < 5; i++) {
      float[] v = vectors.get(i);
      // the server's vector was (text length, 3, 4*(index in batch + 1)), normalised
      double norm = Math.sqrt((i + 1) * (i + 1) + 9 + Math.pow(4 * (i % 2 + 1), 2));
      assertThat(v[0]).isCloseTo((float) ((i + 1) / norm), org.assertj.core.api.Assertions.within(1e-5f));
      assertThat(Vectors.dot(v, v)).isCloseTo(1f, org.assertj.core.api.Assertions.within(1e-5f));
    }
    assertThat(embedder.dimension()).isEqualTo(3);
    assertThat(embedder.modelId()).isEqualTo("test-embedding");
  }

  @Test
  void embed_after500_retriesAndSucceeds() {
    plan(new Fail(500, null));

    List<float[]> vectors = embedder().build().embed(List.of("hello"));

    assertThat(vectors).hasSize(1);
    assertThat(requests).hasSize(2);
  }

  @Test
  void embed_after429WithRetryAfter_retriesAndSucceeds() {
    plan(new Fail(429, "0"), new Fail(503, null));

    assertThat(embedder().build().embed(List.of("hello"))).hasSize(1);
    assertThat(requests).hasSize(3);
  }

  @Test
  void embed_afterATimeout_retriesAndSucceeds() {
    plan(new Stall());

    // The retry's answer must come within the timeout too: 300 ms was not always enough for a
    // loopback answer on a loaded machine (4 of 31 runs at load 17 timed out again).
    OpenAiEmbedder embedder = embedder().timeout(Duration.ofSeconds(2)).build();

    assertThat(embedder.embed(List.of("hello"))).hasSize(1);
    assertThat(requests).hasSize(2);
  }

  @Test
  void embed_whenRetriesRunOut_failsRetriablyNamingTheLastError() {
    plan(new Fail(500, null), new Fail(500, null), new Fail(502, null));

    assertThatThrownBy(() -> embedder().maxRetries(2).build().embed(List.of("hello")))
        .isInstanceOf(EmbeddingException.class)
        .hasMessageContaining("3 attempt(s)").hasMessageContaining("HTTP 502")
        .satisfies(e -> assertThat(((EmbeddingException) e).isRetriable()).isTrue());
    assertThat(requests).hasSize(3);
  }

  @Test
  void embed_badRequest_failsAtOnceAndIsNotRetriable() {
    plan(new Fail(400, null));

    assertThatThrownBy(() -> embedder().build().embed(List.of("hello")))
        .isInstanceOf(EmbeddingException.class).hasMessageContaining("HTTP 400").hasMessageContaining("scripted failure")
        .satisfies(e -> assertThat(((EmbeddingException) e).isRetriable()).isFalse());
    assertThat(requests).hasSize(1);
  }

  @Test
  void embed_unreachableServer_failsRetriably() {
    int port = server.getAddress().getPort();
    server.stop(0);
    OpenAiEmbedder embedder = OpenAiEmbedder.builder().baseUrl("http://127.0.0.1:" + port + "/v1").model("m")
        .maxRetries(1).initialBackoff(Duration.ofMillis(5)).build();

    assertThatThrownBy(() -> embedder.embed(List.of("hello")))
        .isInstanceOf(EmbeddingException.class).hasMessageContaining("2 attempt(s)");
  }

  @Test
  void builder_rejectsMissingAndBadSettings() {
    assertThatThrownBy(() -> OpenAiEmbedder.builder().model("m").build()).hasMessageContaining("baseUrl");
    assertThatThrownBy(() -> OpenAiEmbedder.builder().baseUrl("http://x/v1").build()).hasMessageContaining("model");
    assertThatThrownBy(() -> OpenAiEmbedder.builder().batchSize(0)).hasMessageContaining("batchSize");
    assertThatThrownBy(() -> OpenAiEmbedder.builder().timeout(Duration.ZERO)).hasMessageContaining("timeout");
    assertThat(OpenAiEmbedder.builder().baseUrl("http://x/v1").model("m").dimensions(256).build().modelId()).isEqualTo("m@256");
  }
}
