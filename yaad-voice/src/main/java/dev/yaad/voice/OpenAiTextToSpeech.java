package dev.yaad.voice;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Text-to-speech by an OpenAI-compatible server: {@code POST {baseUrl}/audio/speech} with
 * {@code {model, input, voice, response_format: "pcm"}}; the answer is raw 24 kHz 16-bit
 * little-endian mono, read as it streams and handed on in pieces of 100 ms or less, so the first
 * audio leaves before the sentence is complete. The voice comes from the session's language
 * ({@link VoiceConfig#voiceFor}).
 */
final class OpenAiTextToSpeech implements TextToSpeech {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** OpenAI's {@code pcm} format. */
  static final int PCM_RATE = 24_000;

  private final VoiceConfig.Provider provider;
  private final Function<String, String> voices;
  private final HttpClient client;

  OpenAiTextToSpeech(VoiceConfig.Provider provider, Function<String, String> voices) {
    this.provider = provider;
    this.voices = voices;
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
  public void synthesize(String text, String language, int outRate, Consumer<short[]> out) throws InterruptedException {
    ObjectNode body = JSON.createObjectNode()
        .put("model", provider.model()).put("input", text).put("voice", voices.apply(language)).put("response_format", "pcm");
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(provider.baseUrl() + "/audio/speech"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    Resampler resampler = new Resampler(PCM_RATE, outRate);
    try (InputStream in = RemoteCall.send(client, provider, "remote text-to-speech", request)) {
      byte[] buffer = new byte[PCM_RATE / 10 * 2];
      int carry = 0; // a byte of a sample split across reads
      int n;
      while ((n = in.read(buffer, carry, buffer.length - carry)) > 0) {
        int bytes = carry + n;
        short[] pcm = new short[bytes / 2];
        for (int i = 0; i < pcm.length; i++) {
          pcm[i] = (short) ((buffer[2 * i] & 0xff) | (buffer[2 * i + 1] << 8));
        }
        carry = bytes % 2;
        if (carry == 1) {
          buffer[0] = buffer[bytes - 1];
        }
        short[] converted = resampler.process(pcm);
        if (converted.length > 0) {
          out.accept(converted);
        }
      }
      short[] tail = resampler.flush();
      if (tail.length > 0) {
        out.accept(tail);
      }
    } catch (IOException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException();
      }
      throw new EngineException("remote text-to-speech failed while streaming: " + e.getMessage(), e);
    }
  }
}
