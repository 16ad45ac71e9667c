package dev.yaad.agent;

import dev.yaad.agent.llm.Prompts;
import java.time.Duration;
import java.util.Objects;

/**
 * How sessions behave. Start from {@link #defaults()} and change what you need with the
 * {@code with...} methods; every value is checked when set.
 *
 * @param systemPrompt        the companion's persona for conversation turns
 * @param historyTurns        user turns (with their replies) kept as short-term history, 1..200
 * @param maxToolRounds       model → tools → model rounds in one reply before it must answer, 0..8
 * @param greetOnReady        greet as soon as the connection is ready
 * @param greetingSnapshotWait how long a greeting waits for a snapshot still loading before
 *                            greeting without one (the snapshot is normally preloaded by then)
 */
public record AgentConfig(
    String systemPrompt, int historyTurns, int maxToolRounds, boolean greetOnReady, Duration greetingSnapshotWait) {

  public static final int DEFAULT_HISTORY_TURNS = 12;
  public static final int DEFAULT_MAX_TOOL_ROUNDS = 3;
  public static final Duration DEFAULT_GREETING_SNAPSHOT_WAIT = Duration.ofMillis(250);

  public AgentConfig {
    Objects.requireNonNull(systemPrompt, "systemPrompt");
    Objects.requireNonNull(greetingSnapshotWait, "greetingSnapshotWait");
    if (systemPrompt.isBlank()) {
      throw new IllegalArgumentException("systemPrompt must not be blank");
    }
    if (historyTurns < 1 || historyTurns > 200) {
      throw new IllegalArgumentException("historyTurns must be 1..200 (was " + historyTurns + ")");
    }
    if (maxToolRounds < 0 || maxToolRounds > 8) {
      throw new IllegalArgumentException("maxToolRounds must be 0..8 (was " + maxToolRounds + ")");
    }
    if (greetingSnapshotWait.isNegative()) {
      throw new IllegalArgumentException("greetingSnapshotWait must not be negative (was " + greetingSnapshotWait + ")");
    }
  }

  public static AgentConfig defaults() {
    return new AgentConfig(Prompts.DEFAULT_SYSTEM_PROMPT, DEFAULT_HISTORY_TURNS, DEFAULT_MAX_TOOL_ROUNDS, true,
        DEFAULT_GREETING_SNAPSHOT_WAIT);
  }

  public AgentConfig withSystemPrompt(String prompt) {
    return new AgentConfig(prompt, historyTurns, maxToolRounds, greetOnReady, greetingSnapshotWait);
  }

  public AgentConfig withHistoryTurns(int turns) {
    return new AgentConfig(systemPrompt, turns, maxToolRounds, greetOnReady, greetingSnapshotWait);
  }

  public AgentConfig withMaxToolRounds(int rounds) {
    return new AgentConfig(systemPrompt, historyTurns, rounds, greetOnReady, greetingSnapshotWait);
  }

  public AgentConfig withGreetOnReady(boolean greet) {
    return new AgentConfig(systemPrompt, historyTurns, maxToolRounds, greet, greetingSnapshotWait);
  }

  public AgentConfig withGreetingSnapshotWait(Duration wait) {
    return new AgentConfig(systemPrompt, historyTurns, maxToolRounds, greetOnReady, wait);
  }
}
