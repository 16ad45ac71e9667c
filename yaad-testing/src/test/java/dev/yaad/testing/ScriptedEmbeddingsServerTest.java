package dev.yaad.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The wire format, read with a plain HTTP client, and the vectors' promises. */
class ScriptedEmbeddingsServerTest {
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  HttpResponse<String> post(ScriptedEmbeddingsServer server, String body) throws Exception {
    return ScriptedLlmServerTest.postJson(http, server.baseUrl() + "/embeddings", body);
  }

  @Test
  void arrayInput_getsOneVectorPerTextInOrder_afterTheLatency() throws Exception {
    try (ScriptedEmbeddingsServer server = ScriptedEmbeddingsServer.start().latency(Duration.ofMillis(80))) {
      long start = System.nanoTime();
      HttpResponse<String> r = post(server, "{\"model\":\"m-384\",\"input\":[\"my cat is Sana\",\"I live in Lahore\"],\"encoding_format\":\"float\"}");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(80));
      assertThat(r.statusCode()).isEqualTo(200);
      JsonNode body = new ObjectMapper().readTree(r.body());
      assertThat(body.path("object").asText()).isEqualTo("list");
      assertThat(body.path("model").asText()).isEqualTo("m-384");
      assertThat(body.path("usage").path("total_tokens").asInt()).isPositive();
      JsonNode data = body.path("data");
      assertThat(data).hasSize(2);
      for (int i = 0; i < 2; i++) {
        assertThat(data.get(i).path("object").asText()).isEqualTo("embedding");
        assertThat(data.get(i).path("index").asInt()).isEqualTo(i);
        assertThat(data.get(i).path("embedding")).hasSize(ScriptedEmbeddingsServer.DIMENSION);
      }
      assertThat(data.get(1).path("embedding").get(0).floatValue()).isEqualTo(ScriptedEmbeddingsServer.vector("I live in Lahore")[0]);
      assertThat(server.requests()).isEqualTo(1);
      assertThat(server.texts()).isEqualTo(2);
    }
  }

  @Test
  void stringInput_andBadRequests() throws Exception {
    try (ScriptedEmbeddingsServer server = ScriptedEmbeddingsServer.start()) {
      assertThat(post(server, "{\"model\":\"m\",\"input\":\"hello\"}").body()).contains("\"index\":0");
      assertThat(post(server, "not json").statusCode()).isEqualTo(400);
      assertThat(post(server, "{\"model\":\"m\",\"input\":[]}").statusCode()).isEqualTo(400);
      assertThat(post(server, "{\"model\":\"m\",\"input\":[[1,2]]}").statusCode()).isEqualTo(400);
      assertThat(http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
          .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void vectors_areUnitLength_theSameForOneText_andNearlyOrthogonalForTwo() {
    float[] a = ScriptedEmbeddingsServer.vector("my sister was born in Lahore (ref q1x2)");
    float[] b = ScriptedEmbeddingsServer.vector("my sister was born in Lahore (ref q1x3)");
    assertThat(ScriptedEmbeddingsServer.vector("my sister was born in Lahore (ref q1x2)")).containsExactly(a);
    assertThat(dot(a, a)).isCloseTo(1.0, within(1e-5));
    assertThat(Math.abs(dot(a, b))).isLessThan(0.3);
  }

  private static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
