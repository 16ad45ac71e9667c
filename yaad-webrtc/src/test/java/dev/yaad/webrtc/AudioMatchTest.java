package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The measure {@link BrowserCallTest} judges the browser's microphone by, on flite's speech
 * changed here as a receiver's jitter buffer changes it, and on sounds that are not it.
 */
class AudioMatchTest {
  private static final int RATE = 16_000;
  private static short[] speech;
  private static short[] otherSpeech;

  @BeforeAll
  static void speak(@TempDir Path dir) throws Exception {
    String tool = SpeechFixtures.missingTool();
    if (tool != null) {
      if (System.getenv("CI") != null || System.getenv("YAAD_REQUIRE_SERVICES") != null) {
        fail("no " + tool + " on the PATH");
      }
        Assumptions.abort("no " + tool);
    }
    speech = say("Hello Yaad, this is the browser speaking through web R T C.", dir, "a");
    otherSpeech = say("The quick brown fox jumps over the lazy dog near the river.", dir, "b");
  }

  private static short[] say(String text, Path dir, String name) throws Exception {
    return SpeechFixtures.read(SpeechFixtures.speak(text, dir, name, RATE, 0.4, 0.8)).samples();
  }

  @Test
  void theSpeechItself_matchesWhereItIs() {
    AudioMatch.Result match = AudioMatch.find(speech, received(speech, 0), RATE);
    assertThat(match.lagSamples()).isEqualTo(RATE / 2);
    assertThat(match.envelope()).isGreaterThan(0.99);
    assertThat(match.waveform()).isGreaterThan(0.95);
  }

  @Test
  void theSpeechStretchedAndSqueezed_asAJitterBufferDoesUnderLoad_stillMatches() {
    // Concealment adds 30 ms here and 20 ms there, acceleration takes 10 ms out elsewhere: the
    // end of the sentence is 60 ms later than its start says, and one lag cannot fit both.
    short[] changed = speech;
    changed = insert(changed, RATE * 8 / 10, RATE * 30 / 1000);
    changed = cut(changed, RATE * 13 / 10, RATE * 10 / 1000);
    changed = insert(changed, RATE * 18 / 10, RATE * 20 / 1000);
    changed = insert(changed, RATE * 25 / 10, RATE * 20 / 1000);
    AudioMatch.Result match = AudioMatch.find(speech, received(changed, 300), RATE);
    // (One lag for the whole sentence scored 0.88 and 0.37 here.)
    assertThat(match.envelope()).isGreaterThan(0.9);
    assertThat(match.waveform()).isGreaterThan(0.9);
  }

  @Test
  void theSpeechWithLongGaps_asConcealmentUnderHeavyLoadLeaves_stillMatches() {
    // 150 ms and then 120 ms of silence where packets came far too late: too far for the next
    // window to be found near the last, but each found again further on.
    short[] changed = gap(gap(speech, RATE * 15 / 10, RATE * 150 / 1000), RATE * 30 / 10, RATE * 120 / 1000);
    AudioMatch.Result match = AudioMatch.find(speech, received(changed, 300), RATE);
    assertThat(match.envelope()).isGreaterThan(0.9);
    assertThat(match.waveform()).isGreaterThan(0.9);
  }

  @Test
  void noiseAsLoudAsTheSpeech_doesNotMatch() {
    Random random = new Random(7);
    short[] noise = new short[speech.length];
    for (int b = 0; b + 160 <= speech.length; b += 160) {
      double rms = Signals.rms(speech, b, b + 160);
      for (int i = b; i < b + 160; i++) {
        noise[i] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, Math.round(random.nextGaussian() * rms)));
      }
    }
    AudioMatch.Result match = AudioMatch.find(speech, received(noise, 0), RATE);
    assertThat(match.envelope()).as("as loud, when it is").isGreaterThan(0.9);
    assertThat(match.waveform()).as("but not the same sound").isLessThan(0.3);
  }

  @Test
  void otherSpeech_doesNotMatch() {
    AudioMatch.Result match = AudioMatch.find(speech, received(otherSpeech, 0), RATE);
    assertThat(match.envelope()).isLessThan(0.6);
    assertThat(match.waveform()).as("under the 0.5 BrowserCallTest asks for").isLessThan(0.45);
  }

  @Test
  void silence_doesNotMatch() {
    AudioMatch.Result match = AudioMatch.find(speech, new short[speech.length * 2], RATE);
    assertThat(match.envelope()).isZero();
    assertThat(match.waveform()).isZero();
  }

  /** Half a second of quiet, {@code pcm}, a second of quiet, with a little hiss throughout, as a recording has. */
  private static short[] received(short[] pcm, int extraMillis) {
    short[] out = new short[RATE / 2 + pcm.length + RATE + RATE * extraMillis / 1000];
    System.arraycopy(pcm, 0, out, RATE / 2, pcm.length);
    Random random = new Random(1);
    for (int i = 0; i < out.length; i++) {
      out[i] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, out[i] + Math.round(random.nextGaussian() * 30)));
    }
    return out;
  }

  /** {@code pcm} with its {@code length} samples before {@code at} played again (as concealment stretches a sound). */
  private static short[] insert(short[] pcm, int at, int length) {
    short[] out = new short[pcm.length + length];
    System.arraycopy(pcm, 0, out, 0, at);
    System.arraycopy(pcm, at - length, out, at, length);
    System.arraycopy(pcm, at, out, at + length, pcm.length - at);
    return out;
  }

  /** {@code pcm} with {@code length} samples of silence at {@code at}. */
  private static short[] gap(short[] pcm, int at, int length) {
    short[] out = new short[pcm.length + length];
    System.arraycopy(pcm, 0, out, 0, at);
    System.arraycopy(pcm, at, out, at + length, pcm.length - at);
    return out;
  }

  /** {@code pcm} without {@code length} samples from {@code at}. */
  private static short[] cut(short[] pcm, int at, int length) {
    short[] out = Arrays.copyOf(pcm, pcm.length - length);
    System.arraycopy(pcm, at + length, out, at, pcm.length - at - length);
    return out;
  }
}
