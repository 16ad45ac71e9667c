package dev.yaad.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Times a double's answer as a client sees it: a JSON POST until the first byte of a 200's body. */
final class FirstByte {
  private FirstByte() {}

  /** Nanoseconds from sending to the first byte, the rest read and dropped; -1 if it failed (a fault, the end of a run). */
  static long nanos(HttpClient http, URI uri, String json) throws InterruptedException {
    long sent = System.nanoTime();
    try {
      HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = response.body()) {
        long took = response.statusCode() == 200 && in.read() >= 0 ? System.nanoTime() - sent : -1;
        in.transferTo(OutputStream.nullOutputStream());
        return took;
      }
    } catch (IOException e) {
      return -1;
    }
  }
}
