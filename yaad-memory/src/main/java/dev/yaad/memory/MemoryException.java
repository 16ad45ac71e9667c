package dev.yaad.memory;

/**
 * The root of every error the memory engine reports. Subclasses say whether the caller
 * made a mistake ({@link InvalidInputException}, {@link NotFoundException},
 * {@link ConflictException}) or whether trying again later may succeed
 * ({@link StoreUnavailableException}).
 */
public abstract class MemoryException extends RuntimeException {

  protected MemoryException(String message) {
    super(message);
  }

  protected MemoryException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Whether the same call may succeed if retried later. */
  public boolean isRetriable() {
    return false;
  }
}
