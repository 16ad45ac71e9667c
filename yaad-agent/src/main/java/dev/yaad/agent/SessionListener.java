package dev.yaad.agent;

import dev.yaad.agent.learning.Learned;
import java.time.Duration;

/**
 * Observes a {@link Session}: its state changes and what it speaks.
 *
 * <p>Calls for one session are serialised with its state changes: once a listener has seen
 * the change to {@code CLOSING}, it never receives another {@link #onDelta}. Listeners run
 * on the session's worker threads while the session holds its lock, so they must be quick
 * (hand text to a socket's send queue, count, log) and must not wait for other sessions.
 * They may call the session back. An exception thrown by a listener is logged and ignored.
 */
public interface SessionListener {

  default void onStateChanged(Session session, SessionState from, SessionState to) {}

  /** A greeting, reply or {@code say} starts; its text follows as deltas. */
  default void onSpeechStarted(Session session, Speech speech) {}

  /** The next piece of text to speak. */
  default void onDelta(Session session, Speech speech, String text) {}

  /** The speech ended; {@link Speech#outcome()} says how. */
  default void onSpeechEnded(Session session, Speech speech) {}

  /** A memory tool ran on behalf of the model, for {@code speech} (a reply). */
  default void onToolCall(Session session, Speech speech, String tool, Duration latency, boolean ok) {}

  /**
   * A memory tool changed the user's memories for {@code speech}: {@code saveMemory} added or
   * updated one, or {@code forgetMemory} deleted one (a save that found the fact already
   * remembered changes nothing and is not reported). Called once the store has the change,
   * after the {@link #onToolCall} of the same call. {@code change} has the shape of what
   * {@link dev.yaad.agent.learning.Learner#onLearned} reports, with {@code profile} null.
   * Only this session's listeners hear it: an application with several sessions of one user
   * (a phone and a page) passes it on to the others, as the WebSocket server does.
   */
  default void onLearned(Session session, Speech speech, Learned change) {}
}
