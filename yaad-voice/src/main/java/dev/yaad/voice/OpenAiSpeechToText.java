package dev.yaad.voice;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Speech-to-text by an OpenAI-compatible server (OpenAI, speaches, vLLM, LocalAI):
 * {@code POST {baseUrl}/audio/transcriptions}, multipart with the utterance as a 16 kHz WAV,
 * {@code model}, {@code language} when the session has one, and {@code stream=true} when
 * configured, in which case {@code transcript.text.delta} events become partial transcripts and
 * {@code transcript.text.done} the final one. Whisper-class models punctuate.
 */
final class OpenAiSpeechToText implements SpeechToText {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final VoiceConfig.Provider provider;
  private final boolean stream;
  private final HttpClient client;

  OpenAiSpeechToText(VoiceConfig.Provider provider, boolean stream) {
    this.provider = provider;
    this.stream = stream;
    this.client = RemoteCall.client(provider);
  }

  @Override
  public String name() {
    return RemoteCall.describe(provider);
  }

  @Override
  public boolean supports(String language) {
    return true;
  }

  @Override
  public Transcription transcribe(short[] pcm16k, String language, Consumer<String> partial) throws InterruptedException {
    String boundary = "yaad-" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream(pcm16k.length * 2 + 1024);
    field(body, boundary, "model", provider.model());
    if (language != null) {
      field(body, boundary, "language", language);
    }
    if (stream) {
      field(body, boundary, "stream", "true");
    }
    body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"utterance.wav\"\r\n"
        + "Content-Type: audio/wav\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    body.writeBytes(Wav.of(pcm16k, SileroVad.RATE));
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(provider.baseUrl() + "/audio/transcriptions"))
        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
    try (InputStream in = RemoteCall.send(client, provider, "remote speech-to-text", request)) {
      String text = stream ? readStream(in, partial) : JSON.readTree(in).path("text").asText("");
      return new Transcription(text.strip(), language, true);
    } catch (IOException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException();
      }
      throw new EngineException("remote speech-to-text failed while reading its answer: " + e.getMessage(), e);
    }
  }

  /** Server-sent events: deltas to {@code partial}; the done event's text (or the deltas joined) is the result. */
  private static String readStream(InputStream in, Consumer<String> partial) throws IOException {
    BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    StringBuilder soFar = new StringBuilder();
    String line;
    while ((line = lines.readLine()) != null) {
      if (!line.startsWith("data:")) {
        continue;
      }
      String data = line.substring(5).strip();
      if (data.equals("[DONE]")) {
        break;
      }
      JsonNode event = JSON.readTree(data);
      String type = event.path("type").asText("");
      if (type.equals("transcript.text.delta")) {
        soFar.append(event.path("delta").asText(""));
        partial.accept(soFar.toString().strip());
      } else if (type.equals("transcript.text.done")) {
        return event.path("text").asText(soFar.toString());
      }
    }
    return soFar.toString();
  }

  private static void field(ByteArrayOutputStream body, String boundary, String name, String value) {
    body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n")
        .getBytes(StandardCharsets.UTF_8));
  }
}
