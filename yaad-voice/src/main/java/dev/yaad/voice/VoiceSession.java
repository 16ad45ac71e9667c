package dev.yaad.voice;

/**
 * One caller's audio, bound to one {@link dev.yaad.agent.Session}: made by {@link Voice#open}.
 * Audio in through {@link #accept}; what the user said becomes the session's turns; the session's
 * greeting and replies come out as audio through the {@link AudioOut} and as {@link VoiceEvent}s.
 *
 * <p>{@link #accept} is meant for one transport thread; {@link #close()} may be called from any
 * thread and is idempotent. Closing a voice session does not close the agent session (a caller may
 * go on typing).
 */
public interface VoiceSession extends AutoCloseable {
  /**
   * Audio from the caller: mono 16-bit samples at the session's {@code inRate}, any whole number of
   * samples (20 ms frames are usual). Queued for voice activity detection, which runs at once on
   * the voice's VAD threads, frame after frame in the order given; returns without waiting for it
   * (unless seconds of audio are already queued) and never blocks on speech engines. Ignored after
   * {@link #close()}.
   */
  void accept(short[] pcm);

  /** Stops listening and speaking: cancels transcription and synthesis, stops the audio out. */
  @Override
  void close();
}
