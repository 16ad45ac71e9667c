/**
 * Test doubles shipped for tests, benchmarks and demos: scripted OpenAI-compatible LLM
 * ({@link dev.yaad.testing.ScriptedLlmServer}) and speech ({@link dev.yaad.testing.ScriptedSpeechServer})
 * servers on loopback, and a PostgreSQL ({@link dev.yaad.testing.PostgresProcess}) and a Redis
 * ({@link dev.yaad.testing.RedisProcess}) of a test's or benchmark's own, to stop, kill and restart.
 * Nothing in the runtime uses this package.
 */
package dev.yaad.testing;
