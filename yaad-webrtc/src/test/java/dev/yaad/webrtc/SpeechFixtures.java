package dev.yaad.webrtc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real speech made at test time: flite speaks, sox pads and resamples; 16-bit mono WAV in and out. */
final class SpeechFixtures {
  private SpeechFixtures() {}

  record Pcm(short[] samples, int rate) {
    int millis() {
      return (int) (samples.length * 1000L / rate);
    }
  }

  /** Which of flite and sox is missing, or null when both are on the PATH. */
  static String missingTool() {
    for (String tool : List.of("flite", "sox")) {
      if (!onPath(tool)) {
        return tool;
      }
    }
    return null;
  }

  /** flite speaks {@code text}; sox pads it with silence and makes it mono 16-bit at {@code rate}. */
  static Path speak(String text, Path dir, String name, int rate, double padStart, double padEnd) throws IOException, InterruptedException {
    Path raw = dir.resolve(name + "-flite.wav");
    Path out = dir.resolve(name + ".wav");
    run(List.of("flite", "-t", text, "-o", raw.toString()));
    run(List.of("sox", raw.toString(), "-r", Integer.toString(rate), "-c", "1", "-b", "16", out.toString(),
        "pad", Double.toString(padStart), Double.toString(padEnd)));
    return out;
  }

  static Path resample(Path wav, Path dir, String name, int rate) throws IOException, InterruptedException {
    Path out = dir.resolve(name + ".wav");
    run(List.of("sox", wav.toString(), "-r", Integer.toString(rate), "-c", "1", "-b", "16", out.toString()));
    return out;
  }

  /** The samples of a 16-bit PCM mono WAV file. */
  static Pcm read(Path wav) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
    if (!"RIFF".equals(ascii(b, 0)) || !"WAVE".equals(ascii(b, 8))) {
      throw new IOException(wav + " is not a WAV file");
    }
    int rate = 0;
    int pos = 12;
    while (pos + 8 <= b.limit()) {
      String id = ascii(b, pos);
      int size = b.getInt(pos + 4);
      if (id.equals("fmt ")) {
        if (b.getShort(pos + 8) != 1 || b.getShort(pos + 10) != 1 || b.getShort(pos + 22) != 16) {
          throw new IOException(wav + " is not 16-bit mono PCM");
        }
        rate = b.getInt(pos + 12);
      } else if (id.equals("data")) {
        int n = Math.min(size, b.limit() - pos - 8) / 2;
        short[] samples = new short[n];
        for (int i = 0; i < n; i++) {
          samples[i] = b.getShort(pos + 8 + 2 * i);
        }
        return new Pcm(samples, rate);
      }
      pos += 8 + size + (size & 1);
    }
    throw new IOException(wav + " has no data chunk");
  }

  private static String ascii(ByteBuffer b, int at) {
    byte[] four = new byte[4];
    b.get(at, four);
    return new String(four, StandardCharsets.US_ASCII);
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }
}
