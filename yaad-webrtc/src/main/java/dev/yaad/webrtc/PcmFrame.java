package dev.yaad.webrtc;

/**
 * 20 ms of the caller's voice as 16-bit signed mono PCM, at the transport's input rate
 * ({@link WebRtcConfig.Builder#inputSampleRate}: 16 kHz by default, or 48 kHz). The array is
 * the frame's own (never reused by the transport), so a consumer may keep it.
 *
 * @param samples {@code sampleRate / 50} samples
 * @param sampleRate 16000 or 48000
 * @param receivedNanos {@link System#nanoTime()} when the last sample of the frame left
 *     WebRTC's jitter buffer (for latency measurements)
 */
public record PcmFrame(short[] samples, int sampleRate, long receivedNanos) {

  /** The frame's length in milliseconds (20). */
  public int millis() {
    return samples.length * 1000 / sampleRate;
  }
}
