package dev.yaad.memory;

/** The user or memory does not exist (for this user). */
public final class NotFoundException extends MemoryException {
  public NotFoundException(String message) {
    super(message);
  }
}
