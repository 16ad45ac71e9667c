package dev.yaad.memory;

/**
 * The database refused the operation for a reason that retrying will not fix (a broken
 * schema, a constraint the store did not expect); nothing was written. Not retriable.
 */
public final class StoreFailedException extends MemoryException {
  public StoreFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
