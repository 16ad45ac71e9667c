package dev.yaad.memory;

/** The database could not be reached or failed; nothing was written. Retriable. */
public final class StoreUnavailableException extends MemoryException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isRetriable() {
    return true;
  }
}
