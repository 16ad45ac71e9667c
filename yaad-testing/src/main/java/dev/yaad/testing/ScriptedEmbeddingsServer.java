package dev.yaad.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real HTTP server on loopback that speaks OpenAI's {@code POST /v1/embeddings}: the remote
 * embeddings provider's double, so that Yaad's real {@code OpenAiEmbedder} runs against it.
 *
 * <p>A request is {@code {"model": ..., "input": "text"}} or {@code {"input": ["text", ...]}}
 * (other fields, such as {@code encoding_format}, are ignored); the answer is
 * {@code {"object":"list","data":[{"object":"embedding","index":i,"embedding":[...]}],"model":...,"usage":{...}}},
 * sent {@link #latency} after the request arrived. Each text's vector is {@link #vector}: the
 * same text always gets the same vector, and two different texts get vectors that are nearly
 * orthogonal (cosine about 0 ± 0.05), so de-duplication never takes two different texts for
 * one (and the dense half of a search ranks no better than chance). Requests run on virtual
 * threads: a request waiting out its latency holds no OS thread.
 */
public final class ScriptedEmbeddingsServer implements AutoCloseable {
  /** The length of every vector, that of the in-process default model (bge-small-en-v1.5). */
  public static final int DIMENSION = 384;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong texts = new AtomicLong();
  private volatile long latencyNanos;

  private final Loopback loopback;

  private ScriptedEmbeddingsServer() {
    loopback = new Loopback("scripted embeddings server", this::handle);
  }

  /** Starts a server on a free loopback port that answers at once. */
  public static ScriptedEmbeddingsServer start() {
    return new ScriptedEmbeddingsServer();
  }

  /** The OpenAI-style base URL, e.g. {@code http://127.0.0.1:41234/v1}. */
  public String baseUrl() {
    return loopback.baseUrl();
  }

  /** Answers each request this long after it arrived (the provider's time, network included). */
  public ScriptedEmbeddingsServer latency(Duration latency) {
    this.latencyNanos = latency.toNanos();
    return this;
  }

  /** Embeddings requests answered or being answered since start. */
  public long requests() {
    return requests.get();
  }

  /** Texts embedded since start (a request may carry many). */
  public long texts() {
    return texts.get();
  }

  /**
   * The vector of {@code text}: {@link #DIMENSION} Gaussian values drawn from a generator seeded
   * by the text, scaled to length 1.
   */
  public static float[] vector(String text) {
    SplittableRandom random = new SplittableRandom(seed(text));
    float[] v = new float[DIMENSION];
    double sum = 0;
    for (int i = 0; i < v.length; i++) {
      double x = random.nextGaussian();
      v[i] = (float) x;
      sum += x * x;
    }
    float scale = (float) (1 / Math.sqrt(sum));
    for (int i = 0; i < v.length; i++) {
      v[i] *= scale;
    }
    return v;
  }

  /** 64-bit FNV-1a of the text's UTF-8 bytes: String.hashCode's 32 bits would collide sooner. */
  private static long seed(String text) {
    long h = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return h;
  }

  @Override
  public void close() {
    loopback.close();
  }

  private void handle(HttpExchange exchange) throws IOException {
    long arrived = System.nanoTime();
    try (exchange) {
      JsonNode body = Loopback.postedJson(exchange, "/embeddings");
      if (body == null) {
        return;
      }
      List<String> inputs = inputs(body.path("input"));
      if (inputs == null) {
        Loopback.respondJson(exchange, 400, Loopback.errorJson("'input' must be a non-empty string or an array of non-empty strings"));
        return;
      }
      requests.incrementAndGet();
      texts.addAndGet(inputs.size());
      String answer = answer(body.path("model").asText("scripted"), inputs);
      loopback.pause(arrived + latencyNanos - System.nanoTime());
      Loopback.respondJson(exchange, 200, answer);
    } catch (IOException e) {
      // The client went away: nothing to answer.
    }
  }

  private static List<String> inputs(JsonNode input) {
    List<String> out = new ArrayList<>();
    if (input.isTextual()) {
      out.add(input.asText());
    } else if (input.isArray()) {
      for (JsonNode item : input) {
        if (!item.isTextual()) {
          return null;
        }
        out.add(item.asText());
      }
    }
    return out.isEmpty() || out.stream().anyMatch(String::isEmpty) ? null : out;
  }

  private static String answer(String model, List<String> inputs) {
    ObjectNode root = JSON.createObjectNode();
    root.put("object", "list");
    ArrayNode data = root.putArray("data");
    int tokens = 0;
    for (int i = 0; i < inputs.size(); i++) {
      ArrayNode values = data.addObject().put("object", "embedding").put("index", i).putArray("embedding");
      for (float x : vector(inputs.get(i))) {
        values.add(x);
      }
      tokens += inputs.get(i).length() / 4 + 1;
    }
    root.put("model", model);
    root.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
    return root.toString();
  }
}
