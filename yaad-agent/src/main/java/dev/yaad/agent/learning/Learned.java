package dev.yaad.agent.learning;

import dev.yaad.memory.Memory;
import dev.yaad.memory.Profile;
import java.util.List;
import java.util.UUID;

/**
 * What was stored for a user. Background learning reports it to {@link Learner#onLearned}
 * listeners after each extraction that changed something and after each saved profile; a
 * session reports what its memory tools changed during a turn to
 * {@link dev.yaad.agent.SessionListener#onLearned} (then {@code profile} is null).
 *
 * @param added   memories stored new (extracted, or saved by a tool)
 * @param updated memories that a new fact corrected
 * @param deleted ids of memories the user asked to forget
 * @param profile the new profile, or {@code null} if this event is not about the profile
 */
public record Learned(String userId, List<Memory> added, List<Memory> updated, List<UUID> deleted, Profile profile) {}
