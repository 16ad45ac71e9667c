package dev.yaad.agent;

/**
 * The life of a {@link Session}. Transitions only go forward, one step or straight to
 * {@code CLOSING}: {@code CONNECTING → ACTIVE → CLOSING → CLOSED}, or
 * {@code CONNECTING → CLOSING → CLOSED} when the caller leaves before their connection is ready.
 */
public enum SessionState {
  /** Created; the user's snapshot is loading; nothing is spoken yet. */
  CONNECTING,
  /** The caller's connection is ready: the session greets, replies and speaks. */
  ACTIVE,
  /** The caller left: all of the session's work is being cancelled; nothing more is spoken. */
  CLOSING,
  /** Done. Only learning already handed off goes on, in the background. */
  CLOSED
}
