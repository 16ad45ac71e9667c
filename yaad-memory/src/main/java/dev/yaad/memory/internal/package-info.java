/**
 * The memory engine behind {@link dev.yaad.memory.Memories}: not API. Its classes are public
 * only so that the front door (and the engine's own benchmarks) can reach across its
 * packages ({@code internal.store}, {@code internal.cache}, {@code internal.search}); the
 * agent and the server must not use them, and {@code ArchitectureTest} fails the build if
 * they do. Anything here may change without notice.
 */
package dev.yaad.memory.internal;
