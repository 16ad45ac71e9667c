package dev.yaad.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on loopback that speaks OpenAI's audio endpoints, the test double for
 * remote speech engines (as {@link ScriptedLlmServer} is for the LLM):
 *
 * <ul>
 *   <li>{@code POST /v1/audio/transcriptions} (multipart): answers {@code {"text": ...}} with the
 *       scripted {@link #transcript}, or with {@code stream=true} server-sent
 *       {@code transcript.text.delta} events word by word and a {@code transcript.text.done}.
 *   <li>{@code POST /v1/audio/speech} (JSON {@code {model, input, voice, response_format}}):
 *       answers real speech of {@code input}, made at request time by flite and resampled by sox
 *       to OpenAI's {@code pcm} format (24 kHz, 16-bit little-endian, mono), streamed in 100 ms
 *       chunks.
 * </ul>
 *
 * <p>Latency before the first byte ({@link #latency}), failures ({@link #fail}: an HTTP status
 * for the next N requests) and hangs ({@link #hang}: no answer until the client gives up or the
 * server closes) are set per endpoint. Every request is recorded ({@link #requests}).
 */
public final class ScriptedSpeechServer implements AutoCloseable {
  /** The two endpoints. */
  public enum Endpoint { TRANSCRIPTIONS, SPEECH }

  /**
   * One request as the server saw it: for transcriptions the form fields (the file's field holds
   * its size in bytes), for speech the JSON body's fields.
   */
  public record Request(Endpoint endpoint, Map<String, String> fields) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
  private final Map<Endpoint, Duration> latency = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<Endpoint, AtomicInteger> failures = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<Endpoint, Integer> failStatus = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<Endpoint, AtomicInteger> hangs = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile String transcript = "";
  private final Map<String, byte[]> spoken = new java.util.concurrent.ConcurrentHashMap<>();

  private final Loopback loopback;

  private ScriptedSpeechServer() {
    for (Endpoint e : Endpoint.values()) {
      latency.put(e, Duration.ZERO);
      failures.put(e, new AtomicInteger());
      hangs.put(e, new AtomicInteger());
    }
    loopback = new Loopback("scripted speech server", this::handle); // last: it serves at once
  }

  /** Starts a server on a free loopback port. */
  public static ScriptedSpeechServer start() {
    return new ScriptedSpeechServer();
  }

  /** The OpenAI-style base URL, e.g. {@code http://127.0.0.1:41234/v1}. */
  public String baseUrl() {
    return loopback.baseUrl();
  }

  /** What transcriptions answer from now on. */
  public ScriptedSpeechServer transcript(String text) {
    this.transcript = text;
    return this;
  }

  /** Waits {@code firstByte} before answering {@code endpoint}. */
  public ScriptedSpeechServer latency(Endpoint endpoint, Duration firstByte) {
    latency.put(endpoint, firstByte);
    return this;
  }

  /** Answers the next {@code times} requests to {@code endpoint} with HTTP {@code status}. */
  public ScriptedSpeechServer fail(Endpoint endpoint, int status, int times) {
    failStatus.put(endpoint, status);
    failures.get(endpoint).set(times);
    return this;
  }

  /** Does not answer the next {@code times} requests to {@code endpoint} until the client gives up. */
  public ScriptedSpeechServer hang(Endpoint endpoint, int times) {
    hangs.get(endpoint).set(times);
    return this;
  }

  public List<Request> requests(Endpoint endpoint) {
    return requests.stream().filter(r -> r.endpoint() == endpoint).toList();
  }

  @Override
  public void close() {
    loopback.close();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      Endpoint endpoint = path.endsWith("/audio/transcriptions") ? Endpoint.TRANSCRIPTIONS
          : path.endsWith("/audio/speech") ? Endpoint.SPEECH : null;
      if (endpoint == null || !"POST".equals(exchange.getRequestMethod())) {
        Loopback.respondJson(exchange, 404, Loopback.errorJson("no route " + exchange.getRequestMethod() + " " + path));
        return;
      }
      byte[] body = exchange.getRequestBody().readAllBytes();
      Map<String, String> fields = endpoint == Endpoint.SPEECH ? jsonFields(body)
          : formFields(body, exchange.getRequestHeaders().getFirst("Content-Type"));
      requests.add(new Request(endpoint, fields));
      if (hangs.get(endpoint).getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        loopback.hang();
        return;
      }
      Thread.sleep(latency.get(endpoint).toMillis());
      if (failures.get(endpoint).getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        Loopback.respondJson(exchange, failStatus.get(endpoint), Loopback.errorJson("scripted failure"));
        return;
      }
      if (endpoint == Endpoint.SPEECH) {
        speak(exchange, fields.getOrDefault("input", ""));
      } else if ("true".equals(fields.get("stream"))) {
        streamTranscript(exchange);
      } else {
        Loopback.respondJson(exchange, 200, JSON.createObjectNode().put("text", transcript).toString());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void streamTranscript(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.sendResponseHeaders(200, 0);
    OutputStream out = exchange.getResponseBody();
    for (String word : transcript.split(" ")) {
      String delta = JSON.createObjectNode().put("type", "transcript.text.delta").put("delta", word + " ").toString();
      out.write(("data: " + delta + "\n\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
    String done = JSON.createObjectNode().put("type", "transcript.text.done").put("text", transcript).toString();
    out.write(("data: " + done + "\n\n").getBytes(StandardCharsets.UTF_8));
  }

  private void speak(HttpExchange exchange, String text) throws IOException, InterruptedException {
    byte[] pcm = spoken(text);
    exchange.getResponseHeaders().set("Content-Type", "audio/pcm");
    exchange.sendResponseHeaders(200, 0);
    OutputStream out = exchange.getResponseBody();
    int chunk = 4800; // 100 ms
    for (int off = 0; off < pcm.length; off += chunk) {
      out.write(pcm, off, Math.min(chunk, pcm.length - off));
      out.flush();
    }
  }

  /**
   * {@link #fliteAt24k} once per text: many sessions asking for the same sentence (a benchmark)
   * wait for one synthesis instead of each running flite, so the latency stays the scripted one.
   */
  private byte[] spoken(String text) throws IOException {
    if (spoken.size() > 256) {
      spoken.clear();
    }
    try {
      return spoken.computeIfAbsent(text, t -> {
        try {
          return fliteAt24k(t);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.UncheckedIOException(new IOException("interrupted", e));
        }
      });
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** Real speech: flite's voice, resampled by sox to raw 24 kHz s16le mono. */
  static byte[] fliteAt24k(String text) throws IOException, InterruptedException {
    Path wav = Files.createTempFile("scripted-speech", ".wav");
    try {
      run(List.of("flite", "-voice", "slt", "-t", text, "-o", wav.toString()));
      Process sox = new ProcessBuilder("sox", wav.toString(), "-r", "24000", "-c", "1", "-b", "16", "-e", "signed-integer",
          "-L", "-t", "raw", "-").redirectError(ProcessBuilder.Redirect.DISCARD).start();
      byte[] raw = sox.getInputStream().readAllBytes();
      if (sox.waitFor() != 0) {
        throw new IOException("sox failed on flite's output");
      }
      return raw;
    } finally {
      Files.deleteIfExists(wav);
    }
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (p.waitFor() != 0) {
      throw new IOException(command.getFirst() + " failed");
    }
  }

  private static Map<String, String> jsonFields(byte[] body) throws IOException {
    Map<String, String> fields = new LinkedHashMap<>();
    JsonNode json = JSON.readTree(body);
    json.fieldNames().forEachRemaining(name -> fields.put(name, json.path(name).asText()));
    return fields;
  }

  /** A multipart form's fields; a file field's value is its size in bytes. */
  private static Map<String, String> formFields(byte[] body, String contentType) {
    Map<String, String> fields = new LinkedHashMap<>();
    int b = contentType == null ? -1 : contentType.indexOf("boundary=");
    if (b < 0) {
      return fields;
    }
    String boundary = "--" + contentType.substring(b + 9).replace("\"", "").strip();
    String text = new String(body, StandardCharsets.ISO_8859_1); // byte for byte
    for (String part : text.split(java.util.regex.Pattern.quote(boundary))) {
      int headerEnd = part.indexOf("\r\n\r\n");
      int nameAt = part.indexOf("name=\"");
      if (headerEnd < 0 || nameAt < 0 || nameAt > headerEnd) {
        continue;
      }
      String name = part.substring(nameAt + 6, part.indexOf('"', nameAt + 6));
      String value = part.substring(headerEnd + 4, Math.max(headerEnd + 4, part.length() - 2)); // drop the CRLF before the boundary
      boolean file = part.substring(0, headerEnd).contains("filename=");
      fields.put(name, file ? String.valueOf(value.length()) : new String(value.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }
    return fields;
  }
}
