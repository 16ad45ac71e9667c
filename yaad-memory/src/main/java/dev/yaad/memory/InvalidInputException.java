package dev.yaad.memory;

/** The caller's input breaks a rule; the message names the field, the value and the rule. */
public class InvalidInputException extends MemoryException {
  public InvalidInputException(String message) {
    super(message);
  }
}
