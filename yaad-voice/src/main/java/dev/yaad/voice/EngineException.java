package dev.yaad.voice;

/** A speech engine failed; the message says which and why, fit for the client's {@code error} event. */
final class EngineException extends RuntimeException {
  EngineException(String message) {
    super(message);
  }

  EngineException(String message, Throwable cause) {
    super(message, cause);
  }
}
