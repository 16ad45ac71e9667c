package dev.yaad.memory.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.memory.internal.Vectors;
import dev.yaad.memory.outage.OutageLog;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedder that calls any OpenAI-compatible {@code POST /v1/embeddings} endpoint (OpenAI,
 * Ollama, vLLM, LM Studio, text-embeddings-inference...).
 *
 * <p>One pooled HTTP client per embedder; texts are sent {@link Builder#batchSize} at a time;
 * each request has a timeout; timeouts, connection failures, 408, 429 and 5xx answers are
 * retried up to {@link Builder#maxRetries} times with exponential backoff and jitter (a
 * {@code Retry-After} header in seconds is honoured, up to {@link #MAX_RETRY_AFTER}). Other
 * answers fail at once with a non-retriable {@link EmbeddingException} naming the status and
 * the start of the body. The API key is sent as a bearer token and never logged.
 *
 * <pre>{@code
 * Embedder embedder = OpenAiEmbedder.builder()
 *     .baseUrl("https://api.openai.com/v1").apiKey(System.getenv("OPENAI_API_KEY"))
 *     .model("text-embedding-3-small").build();
 * }</pre>
 */
public final class OpenAiEmbedder implements Embedder {
  public static final int DEFAULT_BATCH_SIZE = 64;
  public static final int DEFAULT_MAX_RETRIES = 3;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(250);
  public static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);
  private static final Logger log = LoggerFactory.getLogger(OpenAiEmbedder.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI endpoint;
  private final String apiKey;
  private final String model;
  private final String modelId;
  private final Integer requestedDimensions;
  private final int batchSize;
  private final int maxRetries;
  private final Duration timeout;
  private final Duration initialBackoff;
  private final HttpClient http;
  /** An outage of the endpoint is logged once per change of state, not per retry. */
  private final OutageLog outage;
  private volatile int dimension;

  private OpenAiEmbedder(Builder b) {
    String base = b.baseUrl.endsWith("/") ? b.baseUrl.substring(0, b.baseUrl.length() - 1) : b.baseUrl;
    this.endpoint = URI.create(base + "/embeddings");
    this.apiKey = b.apiKey;
    this.model = b.model;
    this.requestedDimensions = b.dimensions;
    this.modelId = b.modelId != null ? b.modelId : b.dimensions == null ? b.model : b.model + "@" + b.dimensions;
    this.dimension = b.dimensions == null ? 0 : b.dimensions;
    this.batchSize = b.batchSize;
    this.maxRetries = b.maxRetries;
    this.timeout = b.timeout;
    this.initialBackoff = b.initialBackoff;
    this.outage = new OutageLog(log, "embed", endpoint);
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1) // local servers rarely speak h2c; keep-alive pools connections
        .connectTimeout(b.connectTimeout)
        .build();
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String modelId() {
    return modelId;
  }

  @Override
  public int dimension() {
    return dimension;
  }

  @Override
  public List<float[]> embed(List<String> texts) {
    List<float[]> out = new ArrayList<>(texts.size());
    for (int from = 0; from < texts.size(); from += batchSize) {
      List<String> batch = texts.subList(from, Math.min(texts.size(), from + batchSize));
      for (int i = 0; i < batch.size(); i++) {
        if (batch.get(i) == null || batch.get(i).isBlank()) {
          throw new IllegalArgumentException("texts[" + (from + i) + "] is blank; only non-blank text can be embedded");
        }
      }
      out.addAll(embedBatch(batch));
    }
    return out;
  }

  @Override
  public void warmUp() {
    embed(List.of("warm up"));
  }

  @Override
  public void close() {
    http.close();
  }

  private List<float[]> embedBatch(List<String> batch) {
    byte[] body = requestBody(batch);
    Duration backoff = initialBackoff;
    for (int attempt = 0; ; attempt++) {
      HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
          .timeout(timeout)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      if (apiKey != null && !apiKey.isBlank()) {
        request.header("Authorization", "Bearer " + apiKey);
      }
      String failure;
      Duration wait = backoff;
      try {
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        int status = response.statusCode();
        if (status == 200) {
          outage.succeeded();
          return parse(response.body(), batch.size());
        }
        failure = "HTTP " + status + ": " + excerpt(response.body());
        if (status != 408 && status != 429 && status < 500) {
          throw new EmbeddingException("embeddings request to " + endpoint + " (model " + model + ") was refused with "
              + failure, false, null);
        }
        Duration retryAfter = retryAfter(response);
        if (retryAfter != null) {
          wait = retryAfter;
        }
      } catch (HttpTimeoutException e) {
        failure = "no answer within " + timeout.toMillis() + " ms";
      } catch (IOException e) {
        failure = e.getClass().getSimpleName() + ": " + e.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EmbeddingException("interrupted while embedding with " + model, true, e);
      }
      outage.failed(failure);
      if (attempt >= maxRetries) {
        throw new EmbeddingException("embeddings request to " + endpoint + " (model " + model + ") failed after "
            + (attempt + 1) + " attempt(s); last: " + failure, true, null);
      }
      long jittered = wait.toMillis() + ThreadLocalRandom.current().nextLong(wait.toMillis() / 4 + 1);
      log.debug("embed: {} texts to {} failed ({}); retry {} of {} in {} ms",
          batch.size(), endpoint, failure, attempt + 1, maxRetries, jittered);
      try {
        Thread.sleep(jittered);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EmbeddingException("interrupted while waiting to retry an embeddings request", true, e);
      }
      backoff = backoff.multipliedBy(2);
    }
  }

  private byte[] requestBody(List<String> batch) {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", model);
    ArrayNode input = root.putArray("input");
    batch.forEach(input::add);
    root.put("encoding_format", "float");
    if (requestedDimensions != null) {
      root.put("dimensions", requestedDimensions);
    }
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private List<float[]> parse(byte[] body, int expected) {
    try {
      JsonNode data = JSON.readTree(body).path("data");
      if (!data.isArray() || data.size() != expected) {
        throw new EmbeddingException("embeddings answer from " + endpoint + " holds " + (data.isArray() ? data.size() : "no")
            + " vectors for " + expected + " inputs: " + excerpt(body), false, null);
      }
      float[][] vectors = new float[expected][];
      for (JsonNode item : data) {
        int index = item.path("index").asInt(-1);
        JsonNode values = item.path("embedding");
        if (index < 0 || index >= expected || vectors[index] != null || !values.isArray() || values.isEmpty()) {
          throw new EmbeddingException("embeddings answer from " + endpoint + " has a malformed item: " + excerpt(item.toString().getBytes()), false, null);
        }
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) values.get(i).asDouble();
        }
        if (dimension == 0) {
          dimension = v.length;
        } else if (v.length != dimension) {
          throw new EmbeddingException("model " + model + " answered a vector of " + v.length
              + " dimensions, expected " + dimension, false, null);
        }
        vectors[index] = Vectors.normalize(v);
      }
      return List.of(vectors);
    } catch (IOException e) {
      throw new EmbeddingException("embeddings answer from " + endpoint + " is not JSON: " + excerpt(body), false, e);
    }
  }

  private static Duration retryAfter(HttpResponse<?> response) {
    return response.headers().firstValue("Retry-After").map(v -> {
      try {
        long seconds = Long.parseLong(v.trim());
        return Duration.ofSeconds(Math.max(0, Math.min(seconds, MAX_RETRY_AFTER.toSeconds())));
      } catch (NumberFormatException e) {
        return null; // an HTTP date: fall back to our own backoff
      }
    }).orElse(null);
  }

  private static String excerpt(byte[] body) {
    String text = new String(body, java.nio.charset.StandardCharsets.UTF_8).strip();
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }

  @Override
  public String toString() {
    return "OpenAiEmbedder[endpoint=" + endpoint + ", model=" + model + ", batchSize=" + batchSize
        + ", maxRetries=" + maxRetries + ", timeout=" + timeout + "]";
  }

  /** Configuration with named defaults; {@link #build()} checks what is required. */
  public static final class Builder {
    private String baseUrl;
    private String apiKey;
    private String model;
    private String modelId;
    private Integer dimensions;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private int maxRetries = DEFAULT_MAX_RETRIES;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;

    private Builder() {}

    /** The API root, e.g. {@code https://api.openai.com/v1} or {@code http://127.0.0.1:11434/v1}. */
    public Builder baseUrl(String baseUrl) {
      this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
      return this;
    }

    /** Sent as {@code Authorization: Bearer ...}; {@code null} or blank sends none. */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    public Builder model(String model) {
      this.model = Objects.requireNonNull(model, "model");
      return this;
    }

    /** The identity stored with the vectors; defaults to the model name (plus {@code @dimensions}). */
    public Builder modelId(String modelId) {
      this.modelId = modelId;
      return this;
    }

    /** Asks the model for vectors of this length (models that support it); default: the model's own. */
    public Builder dimensions(int dimensions) {
      if (dimensions < 1) {
        throw new IllegalArgumentException("dimensions cannot be less than 1 (was " + dimensions + ")");
      }
      this.dimensions = dimensions;
      return this;
    }

    public Builder batchSize(int batchSize) {
      if (batchSize < 1 || batchSize > 2048) {
        throw new IllegalArgumentException("batchSize must be 1-2048 (was " + batchSize + ")");
      }
      this.batchSize = batchSize;
      return this;
    }

    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries cannot be negative (was " + maxRetries + ")");
      }
      this.maxRetries = maxRetries;
      return this;
    }

    /** How long one request may take, answer included. */
    public Builder timeout(Duration timeout) {
      this.timeout = positive("timeout", timeout);
      return this;
    }

    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = positive("connectTimeout", connectTimeout);
      return this;
    }

    /** The wait before the first retry; it doubles for each further one. */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = positive("initialBackoff", initialBackoff);
      return this;
    }

    public OpenAiEmbedder build() {
      if (baseUrl == null || !(baseUrl.startsWith("http://") || baseUrl.startsWith("https://"))) {
        throw new IllegalArgumentException("baseUrl must be an http(s) URL such as https://api.openai.com/v1 (was " + baseUrl + ")");
      }
      if (model == null || model.isBlank()) {
        throw new IllegalArgumentException("model is required, e.g. text-embedding-3-small");
      }
      return new OpenAiEmbedder(this);
    }

    private static Duration positive(String name, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive (was " + d + ")");
      }
      return d;
    }
  }
}
