package dev.yaad.memory.embed;

import dev.yaad.memory.MemoryException;

/** An embedding provider failed; {@link #isRetriable()} tells whether trying later may help. */
public final class EmbeddingException extends MemoryException {
  private final boolean retriable;

  public EmbeddingException(String message, boolean retriable, Throwable cause) {
    super(message, cause);
    this.retriable = retriable;
  }

  @Override
  public boolean isRetriable() {
    return retriable;
  }
}
