package dev.yaad.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A real HTTP/1.1 client for one server on loopback. */
final class Http {
  static final String JSON = "application/json";

  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private final int port;
  private final String base;
  private final String bearer;

  Http(int port) {
    this(port, null);
  }

  private Http(int port, String bearer) {
    this.port = port;
    this.base = "http://127.0.0.1:" + port;
    this.bearer = bearer;
  }

  /** A client that sends {@code Authorization: Bearer <credential>} with every request. */
  Http as(String credential) {
    return new Http(port, credential);
  }

  /** A client that sends this raw {@code Authorization} header value. */
  Http withAuthorization(String header) {
    return new Http(port, "\0" + header);
  }

  /**
   * Sends a GET for a target that {@link java.net.URI} refuses (such as {@code /%zz}) over
   * a plain socket, as a careless client would.
   */
  Response rawGet(String target) {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String raw = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int status = Integer.parseInt(raw.substring(9, 12));
      int split = raw.indexOf("\r\n\r\n");
      java.util.Map<String, java.util.List<String>> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      for (String line : raw.substring(0, split).split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.computeIfAbsent(line.substring(0, colon).strip(), k -> new java.util.ArrayList<>()).add(line.substring(colon + 1).strip());
        }
      }
      return new Response(status, java.net.http.HttpHeaders.of(headers, (k, v) -> true), raw.substring(split + 4));
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + target + " failed", e);
    }
  }

  record Response(int status, java.net.http.HttpHeaders headers, String body) {
    JsonNode json() {
      try {
        return JsonBody.JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("response is not JSON: " + body, e);
      }
    }

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }
  }

  Response get(String path) {
    return send("GET", path, null, (String) null);
  }

  Response delete(String path) {
    return send("DELETE", path, null, (String) null);
  }

  Response post(String path, String json) {
    return send("POST", path, JSON, json);
  }

  Response put(String path, String json) {
    return send("PUT", path, JSON, json);
  }

  Response patch(String path, String json) {
    return send("PATCH", path, JSON, json);
  }

  Response send(String method, String path, String contentType, String body) {
    return send(method, path, contentType,
        body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body, StandardCharsets.UTF_8));
  }

  /** Sends the bytes without a Content-Length (chunked), as a streaming client would. */
  Response sendChunked(String method, String path, String contentType, byte[] body) {
    return send(method, path, contentType, BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));
  }

  Response send(String method, String path, String contentType, BodyPublisher body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(30))
        .method(method, body);
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    if (bearer != null) {
      request.header("Authorization", bearer.startsWith("\0") ? bearer.substring(1) : "Bearer " + bearer);
    }
    try {
      HttpResponse<String> response = client.send(request.build(), BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Response(response.statusCode(), response.headers(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
