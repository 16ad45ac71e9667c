package dev.yaad.voice;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Local text-to-speech by running an installed program per sentence: flite for English, espeak-ng
 * (voice {@code ur}) for Urdu. The text goes on standard input (never through a shell); the WAV
 * comes back on standard output (espeak-ng) or through a temporary file (flite cannot write a WAV
 * to a pipe). A sentence is made whole before it is played, which for a
 * sentence takes some tens of milliseconds; the pipeline speaks sentence by sentence, so the
 * first audio still leaves long before the reply is complete.
 */
final class ProcessTextToSpeech implements TextToSpeech {
  private static final long TIMEOUT_SECONDS = 20;

  private final String name;
  private final String language;
  private final List<String> command;

  private ProcessTextToSpeech(String name, String language, List<String> command) {
    this.name = name;
    this.language = language;
    this.command = command;
  }

  /** The local engines installed on this machine. */
  static List<ProcessTextToSpeech> installed() {
    List<ProcessTextToSpeech> engines = new ArrayList<>();
    if (onPath("flite")) {
      engines.add(new ProcessTextToSpeech("en (flite)", "en", List.of("flite", "-voice", "slt", "-f", "/dev/stdin", "-o", "{wav}")));
    }
    if (onPath("espeak-ng")) {
      engines.add(new ProcessTextToSpeech("ur (espeak-ng)", "ur", List.of("espeak-ng", "-v", "ur", "--stdout")));
    }
    return engines;
  }

  static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean supports(String language) {
    return this.language.equals(language);
  }

  @Override
  public void synthesize(String text, String language, int outRate, Consumer<short[]> out) throws InterruptedException {
    Path file = null;
    Process p;
    try {
      List<String> args = command;
      if (command.contains("{wav}")) {
        file = Files.createTempFile("yaad-tts-", ".wav");
        String path = file.toString();
        args = command.stream().map(a -> a.equals("{wav}") ? path : a).toList();
      }
      p = new ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      deleteQuietly(file);
      throw new EngineException(name + ": cannot run " + command.getFirst() + ": " + e.getMessage(), e);
    }
    try {
      try (var stdin = p.getOutputStream()) {
        stdin.write(text.getBytes(StandardCharsets.UTF_8));
      }
      byte[] wav;
      try (InputStream stdout = p.getInputStream()) {
        wav = stdout.readAllBytes();
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new EngineException(name + ": " + command.getFirst() + " failed (exit "
            + (p.isAlive() ? "timeout" : p.exitValue()) + ")");
      }
      if (file != null) {
        wav = Files.readAllBytes(file);
      }
      Wav.Pcm pcm = Wav.parse(wav);
      out.accept(Resampler.convert(pcm.samples(), pcm.rate(), outRate));
    } catch (IOException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException();
      }
      throw new EngineException(name + ": " + e.getMessage(), e);
    } finally {
      p.destroyForcibly();
      deleteQuietly(file);
    }
  }

  private static void deleteQuietly(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // a temporary file left behind: the OS cleans /tmp
      }
    }
  }
}
