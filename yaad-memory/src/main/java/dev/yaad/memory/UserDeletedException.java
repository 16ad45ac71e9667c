package dev.yaad.memory;

/**
 * A write on behalf of work that began before the user was deleted (a turn waiting to be
 * learned, a session opened before the deletion): refused, and nothing was written. The same
 * user id is a new user for work that begins after the deletion. Not retriable.
 */
public final class UserDeletedException extends MemoryException {
  public UserDeletedException(String message) {
    super(message);
  }
}
