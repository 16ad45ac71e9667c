/**
 * Test doubles shipped for tests, benchmarks and demos: a scripted OpenAI-compatible LLM
 * server on loopback. Nothing in the runtime uses this package.
 */
package dev.yaad.testing;
