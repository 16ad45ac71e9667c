package dev.yaad.memory;

/** The write lost a race: an expected version did not match, or the user was deleted meanwhile. */
public final class ConflictException extends MemoryException {
  public ConflictException(String message) {
    super(message);
  }
}
