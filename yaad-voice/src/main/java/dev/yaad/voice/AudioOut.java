package dev.yaad.voice;

/**
 * Where a voice session's reply audio goes: a WebSocket's binary frames, a WebRTC track, a test's
 * buffer. The pipeline calls it from its own threads, one call at a time per session.
 *
 * <p>Implementations are bounded (in bytes) and never block: {@link #play} enqueues and returns;
 * when the queue is full the transport decides what to drop or whether to close, the pipeline does
 * not wait for it.
 */
public interface AudioOut {
  /**
   * Enqueues reply audio: mono 16-bit samples at the {@code outRate} given to {@link Voice#open}.
   * The array is the caller's no longer: implementations may keep it without copying.
   */
  void play(short[] pcm);

  /** Barge-in: drops everything enqueued and not yet sent or played, at once. */
  void stop();

  /**
   * Milliseconds of audio enqueued and not yet played out (or, for a transport that cannot tell,
   * not yet sent). What the user heard of a reply is the audio handed to {@link #play} minus this.
   */
  long queuedMillis();
}
