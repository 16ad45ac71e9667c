/**
 * Learning in the background: batched memory extraction and debounced, coalesced profile
 * refresh, made durable by an outbox table ({@code agent_outbox}).
 */
package dev.yaad.agent.learning;
