package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ResamplerTest {

  private static short[] run(Resampler r, short[] in, int chunk) {
    short[] out = new short[r.maxOutput(in.length) + in.length / chunk * 2];
    int written = 0;
    short[] part = new short[chunk];
    short[] buf = new short[r.maxOutput(chunk)];
    for (int i = 0; i + chunk <= in.length; i += chunk) {
      System.arraycopy(in, i, part, 0, chunk);
      int n = r.process(part, chunk, buf);
      System.arraycopy(buf, 0, out, written, n);
      written += n;
    }
    return java.util.Arrays.copyOf(out, written);
  }

  @Test
  void down48to16_keepsSpeechBandTone() {
    short[] out = run(new Resampler(48_000, 16_000), Signals.tone(1000, 48_000, 1000, 10_000), 480);
    assertThat(out).hasSize(16_000);
    assertThat(Signals.amplitude(out, 1600, 16_000, 1000, 16_000)).isBetween(9_500.0, 10_500.0);
  }

  @Test
  void down48to16_removesWhatWouldFoldBack() {
    // 10 kHz is above the new Nyquist (8 kHz); without the low-pass it would appear at 6 kHz.
    short[] out = run(new Resampler(48_000, 16_000), Signals.tone(10_000, 48_000, 1000, 10_000), 480);
    assertThat(Signals.amplitude(out, 1600, 16_000, 6000, 16_000)).isLessThan(100); // > 40 dB down
  }

  @Test
  void sameRate_passesThrough() {
    short[] in = Signals.tone(440, 16_000, 100, 5000);
    assertThat(run(new Resampler(16_000, 16_000), in, 160)).containsExactly(in);
  }

  @Test
  void otherRatios_interpolateWithoutDriftAcrossChunks() {
    short[] out = run(new Resampler(44_100, 16_000), Signals.tone(440, 44_100, 1000, 8000), 441);
    assertThat(out.length).isBetween(15_990, 16_010);
    assertThat(Signals.amplitude(out, 1600, 15_900, 440, 16_000)).isBetween(7_600.0, 8_400.0);
  }
}
