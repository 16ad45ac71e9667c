package dev.yaad.server.auth;

/** A credential was presented but is not valid: unknown key, bad signature, expired token. */
public final class InvalidCredentialsException extends RuntimeException {
  public InvalidCredentialsException(String message) {
    super(message);
  }
}
