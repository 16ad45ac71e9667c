package dev.yaad.memory;

/** An input is over a size limit; the message states the limit. */
public final class TooLargeException extends InvalidInputException {
  public TooLargeException(String message) {
    super(message);
  }
}
