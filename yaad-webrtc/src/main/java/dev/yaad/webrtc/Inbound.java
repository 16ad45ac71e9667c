package dev.yaad.webrtc;

import java.util.function.Consumer;

/**
 * Turns what WebRTC's audio sink delivers (10 ms of 16-bit PCM at the playout rate, mono or
 * interleaved stereo, native byte order) into the pipeline's 10 ms mono frames at one fixed
 * rate, as WebRTC gives them up (a 20 ms frame held its first half back 10 ms). Runs on one
 * receiving thread only, so it allocates nothing but the frames it emits.
 */
final class Inbound {
  private final int outRate;
  private final Consumer<PcmFrame> out;
  private Resampler resampler;
  private short[] mono = new short[0];
  private short[] resampled = new short[0];
  private short[] frame;
  private int filled;

  Inbound(int outRate, Consumer<PcmFrame> out) {
    this.outRate = outRate;
    this.out = out;
    this.frame = new short[outRate / 100];
  }

  void accept(byte[] data, int bitsPerSample, int sampleRate, int channels, int frames) {
    if (bitsPerSample != 16 || channels < 1 || sampleRate <= 0 || data.length < frames * channels * 2) {
      return; // WebRTC delivers 16-bit PCM; anything else is not audio we can use
    }
    if (resampler == null || resampler.from() != sampleRate) {
      resampler = new Resampler(sampleRate, outRate);
    }
    if (mono.length < frames) {
      mono = new short[frames];
    }
    for (int f = 0; f < frames; f++) {
      int sum = 0;
      for (int c = 0; c < channels; c++) {
        int i = 2 * (f * channels + c);
        sum += (short) ((data[i] & 0xff) | (data[i + 1] << 8));
      }
      mono[f] = (short) (sum / channels);
    }
    int max = resampler.maxOutput(frames);
    if (resampled.length < max) {
      resampled = new short[max];
    }
    int n = resampler.process(mono, frames, resampled);
    for (int i = 0; i < n; ) {
      int take = Math.min(n - i, frame.length - filled);
      System.arraycopy(resampled, i, frame, filled, take);
      filled += take;
      i += take;
      if (filled == frame.length) {
        out.accept(new PcmFrame(frame, outRate, System.nanoTime()));
        frame = new short[outRate / 100];
        filled = 0;
      }
    }
  }
}
