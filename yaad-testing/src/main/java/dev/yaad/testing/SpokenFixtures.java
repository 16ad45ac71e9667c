package dev.yaad.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Real speech for tests and benchmarks, made when they run: {@code flite} speaks English,
 * {@code espeak-ng} Urdu, {@code sox} resamples and pads with silence (Debian packages
 * {@code flite espeak-ng sox}). Nothing is recorded in the repository: a test calls
 * {@link #english} for samples to stream, or {@link #englishWav} for a browser's fake microphone.
 */
public final class SpokenFixtures {
  private SpokenFixtures() {}

  /** English speech (flite's voice slt, which PocketSphinx hears well) as 16-bit mono samples at {@code rate}, with seconds of silence before and after. */
  public static short[] english(String text, int rate, double silenceBefore, double silenceAfter) {
    return speak(List.of("flite", "-voice", "slt", "-t", text, "-o"), rate, silenceBefore, silenceAfter);
  }

  /** Urdu speech (espeak-ng, voice {@code ur}), as {@link #english}. */
  public static short[] urdu(String text, int rate, double silenceBefore, double silenceAfter) {
    return speak(List.of("espeak-ng", "-v", "ur", text, "-w"), rate, silenceBefore, silenceAfter);
  }

  /** English speech as a WAV file at {@code rate} (a browser's fake microphone reads one). */
  public static Path englishWav(String text, int rate, double silenceBefore, double silenceAfter, Path wav) {
    try {
      Path raw = Files.createTempFile("yaad-flite", ".wav");
      try {
        run(List.of("flite", "-voice", "slt", "-t", text, "-o", raw.toString()));
        run(List.of("sox", raw.toString(), "-r", String.valueOf(rate), "-c", "1", "-b", "16", "-e", "signed-integer",
            wav.toString(), "pad", seconds(silenceBefore), seconds(silenceAfter)));
        return wav;
      } finally {
        Files.deleteIfExists(raw);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code seconds} of digital silence at {@code rate}. */
  public static short[] silence(int rate, double seconds) {
    return new short[(int) Math.round(rate * seconds)];
  }

  /** {@code parts} one after the other. */
  public static short[] concat(short[]... parts) {
    int n = 0;
    for (short[] p : parts) {
      n += p.length;
    }
    short[] all = new short[n];
    int at = 0;
    for (short[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }

  /** Samples as the wire carries them: 16-bit little-endian. */
  public static byte[] littleEndian(short[] pcm, int from, int to) {
    ByteBuffer bytes = ByteBuffer.allocate(2 * (to - from)).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asShortBuffer().put(pcm, from, to - from);
    return bytes.array();
  }

  /** Whether the tools are installed, that is, start (tests that need them say so and skip, or fail in CI). */
  public static boolean available() {
    for (String tool : new String[] {"flite", "espeak-ng", "sox"}) {
      try {
        new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor(); // installed if it starts
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  private static short[] speak(List<String> synth, int rate, double silenceBefore, double silenceAfter) {
    try {
      Path wav = Files.createTempFile("yaad-speech", ".wav");
      Path raw = Files.createTempFile("yaad-speech", ".raw");
      try {
        List<String> command = new ArrayList<>(synth);
        command.add(wav.toString());
        run(command);
        run(List.of("sox", wav.toString(), "-r", String.valueOf(rate), "-c", "1", "-b", "16", "-e", "signed-integer",
            "-L", "-t", "raw", raw.toString(), "pad", seconds(silenceBefore), seconds(silenceAfter)));
        byte[] bytes = Files.readAllBytes(raw);
        short[] pcm = new short[bytes.length / 2];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(pcm);
        return pcm;
      } finally {
        Files.deleteIfExists(wav);
        Files.deleteIfExists(raw);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String seconds(double s) {
    return String.format(Locale.ROOT, "%.3f", s);
  }

  private static void run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      String output = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + " failed: " + output.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + command, e);
    }
  }
}
