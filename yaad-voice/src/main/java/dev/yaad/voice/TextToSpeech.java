package dev.yaad.voice;

import java.util.function.Consumer;

/** A text-to-speech engine: one sentence in, audio out as it is made. Thread-safe. */
interface TextToSpeech {
  /** For the start-up line, e.g. {@code flite}. */
  String name();

  /** Whether it speaks {@code language} (a primary subtag). */
  boolean supports(String language);

  /**
   * Speaks {@code text}; blocks (call it on a virtual thread) and hands audio to {@code out} as it
   * arrives; stops when interrupted.
   *
   * @param outRate the sample rate {@code out} wants
   * @throws EngineException when the engine fails before or while speaking
   */
  void synthesize(String text, String language, int outRate, Consumer<short[]> out) throws InterruptedException;
}
