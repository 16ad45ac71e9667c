package dev.yaad.agent;

import dev.yaad.agent.learning.LearningSink;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.memory.MemoryAccess;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * Everything a {@link Session} uses that outlives it, handed over once at creation so that the
 * session never reaches back into its runtime: new session-wide parts (speech engines, say)
 * become one more component here.
 *
 * @param config   how sessions behave
 * @param llm      streams greetings and replies
 * @param memory   the memory port: snapshot, tools
 * @param metrics  where the session reports what it measures
 * @param work     runs blocking work (snapshot load, tool calls) on virtual threads
 * @param learning where finished turns and tool changes go
 * @param closing  told once when a session starts closing (the runtime forgets it)
 */
record SessionContext(AgentConfig config, Llm llm, MemoryAccess memory, AgentMetrics metrics, ExecutorService work,
    LearningSink learning, Consumer<Session> closing) {
  SessionContext {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(llm, "llm");
    Objects.requireNonNull(memory, "memory");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(work, "work");
    Objects.requireNonNull(learning, "learning");
    Objects.requireNonNull(closing, "closing");
  }
}
