/**
 * Test doubles shipped for tests, benchmarks and demos: scripted OpenAI-compatible LLM
 * ({@link dev.yaad.testing.ScriptedLlmServer}) and speech ({@link dev.yaad.testing.ScriptedSpeechServer})
 * servers on loopback. Nothing in the runtime uses this package.
 */
package dev.yaad.testing;
