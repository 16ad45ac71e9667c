package dev.yaad.memory.internal.store;

/**
 * A conditional write found the user's memories changed since the caller read them (another
 * process wrote): nothing was written; read again and decide again.
 */
public final class StaleStateException extends RuntimeException {
  public StaleStateException(String message) {
    super(message, null, false, false); // expected and handled: no stack trace
  }
}
