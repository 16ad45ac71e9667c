package dev.yaad.agent.learning;

/**
 * What sessions hand to background learning: finished turns, memory changes made during a
 * turn, and the end of a session. {@link Learner} is the implementation; {@link #NONE}
 * learns nothing. Every method returns at once and never throws.
 */
public interface LearningSink {
  /** Learns nothing. */
  LearningSink NONE = new LearningSink() {};

  /**
   * A turn finished (completed, interrupted or cancelled): extract memories from it later.
   *
   * @return false if the turn could not be kept for learning (it is lost), true otherwise
   */
  default boolean turnCompleted(String userId, String sessionId, String userText, String assistantText) {
    return true;
  }

  /** The user's memories changed outside extraction (a memory tool wrote): refresh the profile later. */
  default void memoryChanged(String userId, String reason) {}

  /** A live reply's first token came after {@code firstToken}: background learning yields while replies slow down. */
  default void replyStarted(java.time.Duration firstToken) {}

  /** The session ended: its waiting turns are due now. */
  default void sessionEnded(String userId, String sessionId) {}
}
