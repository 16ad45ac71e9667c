package dev.yaad.agent.learning;

import dev.yaad.memory.Memory;
import dev.yaad.memory.Profile;
import java.util.List;
import java.util.UUID;

/**
 * What background learning stored for a user: reported to {@link Learner#onLearned}
 * listeners after each extraction that changed something and after each saved profile.
 *
 * @param added   memories extracted and stored new
 * @param updated memories that an extracted fact corrected
 * @param deleted ids of memories the user asked to forget
 * @param profile the new profile, or {@code null} if this event is not about the profile
 */
public record Learned(String userId, List<Memory> added, List<Memory> updated, List<UUID> deleted, Profile profile) {}
