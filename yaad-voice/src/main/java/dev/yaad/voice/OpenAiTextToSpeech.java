package dev.yaad.voice;

import java.util.function.Consumer;
import java.util.function.Function;

/** Text-to-speech by an OpenAI-compatible {@code POST {baseUrl}/audio/speech}, {@code pcm} (24 kHz s16le) streamed. */
final class OpenAiTextToSpeech implements TextToSpeech {
  private final VoiceConfig.Provider provider;
  private final Function<String, String> voices;

  OpenAiTextToSpeech(VoiceConfig.Provider provider, Function<String, String> voices) {
    this.provider = provider;
    this.voices = voices;
  }

  @Override
  public String name() {
    return "every language (" + provider.model() + " at " + provider.baseUrl() + ")";
  }

  @Override
  public boolean supports(String language) {
    return true;
  }

  @Override
  public void synthesize(String text, String language, int outRate, Consumer<short[]> out) {
    throw new EngineException("remote text-to-speech: not built yet");
  }
}
