/**
 * The conversation runtime: {@link dev.yaad.agent.AgentRuntime} opens a
 * {@link dev.yaad.agent.Session} per caller; sessions greet, reply with memory tools, and
 * hand finished turns to background learning ({@link dev.yaad.agent.learning.Learner}).
 * See {@code docs/agent.md}.
 */
package dev.yaad.agent;
