package dev.yaad.voice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test audio made at test time: flite (voice slt) speaks English, espeak-ng Urdu; sox pads with
 * silence, mixes in white noise and resamples. Returned as mono 16-bit samples.
 */
final class Fixtures {
  private Fixtures() {}

  /** {@code text} spoken by flite, with {@code padMs} of silence after it and light noise, at {@code rate}. */
  static short[] english(String text, int rate, int padMs) {
    return speech(List.of("flite", "-voice", "slt", "-t", text, "-o"), rate, padMs);
  }

  /**
   * {@code text} spoken by flite at a conversational pace: flite's default is slow (its "yeah" has
   * 350 ms of voicing, a person's about 250 ms).
   */
  static short[] englishBrisk(String text, int rate, int padMs) {
    return speech(List.of("flite", "-voice", "slt", "--setf", "duration_stretch=0.7", "-t", text, "-o"), rate, padMs);
  }

  /** {@code text} spoken by espeak-ng's Urdu voice. */
  static short[] urdu(String text, int rate, int padMs) {
    return speech(List.of("espeak-ng", "-v", "ur", "-w"), rate, padMs, text);
  }

  static short[] silence(int ms, int rate) {
    return new short[rate * ms / 1000];
  }

  private static short[] speech(List<String> tts, int rate, int padMs, String... trailing) {
    try {
      Path dir = Files.createTempDirectory("yaad-voice-fixture");
      Path spoken = dir.resolve("spoken.wav");
      Path noise = dir.resolve("noise.wav");
      Path raw = dir.resolve("out.raw");
      List<String> cmd = new ArrayList<>(tts);
      cmd.add(spoken.toString());
      cmd.addAll(List.of(trailing));
      run(cmd);
      // 16 kHz, padded, mixed with noise about 40 dB under the speech, then at the asked rate.
      // Repeatable (-R: the same noise and dither each run), so a word error rate is the same each run.
      Path padded = dir.resolve("padded.wav");
      run(List.of("sox", "-R", spoken.toString(), "-r", "16000", "-c", "1", "-b", "16", padded.toString(),
          "pad", "0.2", String.valueOf(padMs / 1000.0)));
      String seconds = run(List.of("soxi", "-D", padded.toString())).strip();
      run(List.of("sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", noise.toString(), "synth", seconds, "whitenoise", "vol", "0.005"));
      run(List.of("sox", "-R", "-m", padded.toString(), noise.toString(), "-r", String.valueOf(rate), "-c", "1", "-b", "16",
          "-e", "signed-integer", "-t", "raw", raw.toString()));
      byte[] bytes = Files.readAllBytes(raw);
      short[] pcm = new short[bytes.length / 2];
      ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(pcm);
      for (Path p : List.of(spoken, noise, padded, raw, dir)) {
        Files.deleteIfExists(p);
      }
      return pcm;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(command + " failed: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return output;
  }

  /** Streams {@code pcm} in 20 ms frames, paced in real time when {@code realTime}. */
  static void feed(VoiceSession session, short[] pcm, int rate, boolean realTime) {
    int frame = rate / 50;
    long start = System.nanoTime();
    for (int off = 0, i = 0; off < pcm.length; off += frame, i++) {
      short[] f = java.util.Arrays.copyOfRange(pcm, off, Math.min(pcm.length, off + frame));
      session.accept(f);
      if (realTime) {
        long due = start + (i + 1) * 20_000_000L;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
      }
    }
  }

  /** Word error rate of {@code hypothesis} against {@code reference}: word edit distance / reference words. */
  static int wordErrors(String reference, String hypothesis) {
    String[] r = Sentences.words(reference);
    String[] h = Sentences.words(hypothesis);
    int[][] d = new int[r.length + 1][h.length + 1];
    for (int i = 0; i <= r.length; i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= h.length; j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= r.length; i++) {
      for (int j = 1; j <= h.length; j++) {
        int sub = d[i - 1][j - 1] + (r[i - 1].equals(h[j - 1]) ? 0 : 1);
        d[i][j] = Math.min(sub, Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1));
      }
    }
    return d[r.length][h.length];
  }
}
