package dev.yaad.agent.learning;

import java.time.Instant;

/**
 * Why a profile refresh ran or did not: every decision is reported to listeners and kept
 * in {@link Learner#recentDecisions()}.
 *
 * @param userId the user
 * @param action {@code SAVED} (a new profile was written), {@code UNCHANGED} (generated but not
 *               meaningfully different, not written), {@code POSTPONED} (too soon after the
 *               last refresh), {@code COALESCED} (another change joined a pending refresh),
 *               {@code FAILED} (will be retried)
 * @param reason the changes that asked for it and what was decided, in words
 * @param at     when
 */
public record RefreshDecision(String userId, Action action, String reason, Instant at) {
  public enum Action { SAVED, UNCHANGED, POSTPONED, COALESCED, FAILED }
}
