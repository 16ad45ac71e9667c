package dev.yaad.voice;

import java.util.function.Consumer;

/** A speech-to-text engine: one utterance of 16 kHz audio in, its text out. Thread-safe. */
interface SpeechToText {
  /** For the start-up line, e.g. {@code pocketsphinx} or {@code remote whisper-1 at http://...}. */
  String name();

  /** Whether it transcribes {@code language} (a primary subtag; {@code null}: whatever is spoken). */
  boolean supports(String language);

  /**
   * Transcribes one utterance; blocks (call it on a virtual thread), stops when interrupted.
   *
   * @param pcm16k   mono 16-bit samples at 16 kHz
   * @param language primary subtag, or {@code null} to let the engine detect it
   * @param partial  receives the text so far, when the engine streams it
   * @throws EngineException when the engine fails; the message is for the client
   */
  Transcription transcribe(short[] pcm16k, String language, Consumer<String> partial) throws InterruptedException;

  /**
   * @param punctuated whether the engine writes punctuation (then a missing full stop means "not finished")
   */
  record Transcription(String text, String language, boolean punctuated) {}
}
