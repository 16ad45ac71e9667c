package dev.yaad.voice;

import java.util.function.Consumer;

/** Speech-to-text by an OpenAI-compatible {@code POST {baseUrl}/audio/transcriptions}. */
final class OpenAiSpeechToText implements SpeechToText {
  private final VoiceConfig.Provider provider;
  private final boolean stream;

  OpenAiSpeechToText(VoiceConfig.Provider provider, boolean stream) {
    this.provider = provider;
    this.stream = stream;
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
  public Transcription transcribe(short[] pcm16k, String language, Consumer<String> partial) {
    throw new EngineException("remote speech-to-text: not built yet");
  }
}
