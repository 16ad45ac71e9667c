package dev.yaad.voice;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request to an OpenAI-compatible speech server, with the retry rule of both remote engines:
 * a request that failed before its first byte (no connection, no response headers within the
 * first-byte timeout, 5xx, 429) is retried up to {@code maxRetries} times after a short pause; once
 * a response body is being read, never. Other statuses fail at once with the server's message.
 */
final class RemoteCall {
  private static final Logger log = LoggerFactory.getLogger(RemoteCall.class);

  private RemoteCall() {}

  /** For the start-up line: {@code every language (whisper-1 at https://api.openai.com/v1)}. */
  static String describe(VoiceConfig.Provider provider) {
    return "every language (" + provider.model() + " at " + provider.baseUrl() + ")";
  }

  static HttpClient client(VoiceConfig.Provider provider) {
    return HttpClient.newBuilder().connectTimeout(provider.connectTimeout()).build();
  }

  /**
   * Sends the request built by {@code request} (with the key and first-byte timeout set here) and
   * returns the 200 response's body stream; the caller closes it.
   *
   * @param what for messages, e.g. {@code remote speech-to-text}
   */
  static InputStream send(HttpClient client, VoiceConfig.Provider provider, String what, HttpRequest.Builder request)
      throws InterruptedException {
    request.timeout(provider.firstByteTimeout());
    if (provider.apiKey() != null && !provider.apiKey().isBlank()) {
      request.header("Authorization", "Bearer " + provider.apiKey());
    }
    HttpRequest built = request.build();
    String failure = null;
    for (int attempt = 0; attempt <= provider.maxRetries(); attempt++) {
      if (attempt > 0) {
        Thread.sleep(100L * attempt);
      }
      HttpResponse<InputStream> response;
      try {
        response = client.send(built, HttpResponse.BodyHandlers.ofInputStream());
      } catch (java.net.http.HttpTimeoutException e) {
        failure = "no response within " + provider.firstByteTimeout().toMillis() + " ms";
        continue;
      } catch (IOException e) {
        failure = "cannot reach " + provider.baseUrl() + ": " + e;
        continue;
      }
      int status = response.statusCode();
      if (status == 200) {
        return response.body();
      }
      String message = errorMessage(response.body());
      failure = "HTTP " + status + (message.isEmpty() ? "" : ": " + message);
      if (status < 500 && status != 429) {
        break; // the request itself is wrong: retrying will not help
      }
    }
    log.debug("voice: {} failed: {}", what, failure);
    throw new EngineException(what + " failed (" + provider.model() + " at " + provider.baseUrl() + "): " + failure);
  }

  private static String errorMessage(InputStream body) {
    try (body) {
      String text = new String(body.readNBytes(2000), StandardCharsets.UTF_8).strip();
      return text.replaceAll("\\s+", " ");
    } catch (IOException e) {
      return "";
    }
  }
}
