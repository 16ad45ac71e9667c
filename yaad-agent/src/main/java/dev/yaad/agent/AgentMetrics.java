package dev.yaad.agent;

import java.time.Duration;

/**
 * Where the agent reports what it measures: a port with no-op defaults
 * ({@link #NONE}), so a deployment adds a registry ({@link MicrometerAgentMetrics}) or nothing.
 * Implementations must be thread-safe and fast.
 */
public interface AgentMetrics {
  AgentMetrics NONE = new AgentMetrics() {};

  default void sessionStateChanged(SessionState from, SessionState to) {}

  /** From the connection being ready to the first greeting token reaching the listeners. */
  default void greetingFirstToken(Duration sinceReady) {}

  /** From the user's text to the first reply token reaching the listeners. */
  default void replyFirstToken(Duration sinceUserText) {}

  default void speechEnded(Speech.Kind kind, Speech.Outcome outcome) {}

  /**
   * A greeting or reply ended, with how long it took from its start (for a reply: from the
   * user's text) to its end: the end-to-end time of a turn. By default, {@link #speechEnded(Speech.Kind, Speech.Outcome)}.
   */
  default void speechEnded(Speech.Kind kind, Speech.Outcome outcome, Duration duration) {
    speechEnded(kind, outcome);
  }

  default void toolCall(String tool, Duration latency, boolean ok) {}

  /** One LLM call; {@code purpose} is greeting, reply, extract or profile. */
  default void llmCall(String purpose, Duration latency, boolean ok) {}

  /**
   * A background-learning event: {@code extraction.ok}, {@code extraction.unparseable},
   * {@code failure}, {@code turn.dropped} (a finished turn could not be kept: too many were
   * held while the database was away), or {@code profile.<decision>} ({@code profile.saved}, {@code profile.unchanged},
   * {@code profile.postponed}, {@code profile.coalesced}, {@code profile.failed}).
   */
  default void learning(String event) {}
}
