package dev.yaad.voice;

import dev.yaad.agent.Session;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The voice front door: what every voice session shares (the Silero VAD model, the speech engines,
 * the meters), and {@link #open} to give one agent session ears and a mouth.
 *
 * <p>Use: {@link #start} once per server (it loads the VAD and finds the engines), log
 * {@link #describe()}, then per caller {@link #open} with the agent session, an event sink, the
 * transport's {@link AudioOut} and the two sample rates; feed the returned {@link VoiceSession}
 * the caller's PCM (20 ms at a time is usual) and close it when the caller hangs up.
 *
 * <p>Engines are chosen per language when the voice starts: a configured remote (OpenAI-compatible)
 * engine serves every language; otherwise the local ones serve what they can (PocketSphinx hears
 * English; flite speaks English, espeak-ng Urdu); otherwise that language is text only, and
 * {@link #describe()} says what to install or configure. Nothing is downloaded at run time: the
 * VAD model ships in this module's jar.
 *
 * <p>Thread-safe. {@link #close()} closes the sessions' shared resources; close the voice sessions
 * first.
 */
public final class Voice implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Voice.class);

  private final VoiceConfig config;
  private final SileroVad.Model vad;
  private final List<SpeechToText> listeners;
  private final List<TextToSpeech> speakers;
  private final VoiceMetrics metrics;
  private final List<String> missing;
  /** Endpointing timers of all sessions; each hands its work to a virtual thread at once. */
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().name("yaad-voice-timer").daemon().factory());

  /** The sessions' VAD lanes ({@link VadLane}) run on these, one thread per core. */
  private final VadThreads vadThreads;

  private Voice(VoiceConfig config, SileroVad.Model vad, Engines engines, VoiceMetrics metrics) {
    this.config = config;
    this.vad = vad;
    this.vadThreads = new VadThreads(vad, Math.max(2, Runtime.getRuntime().availableProcessors()));
    this.listeners = engines.stt;
    this.speakers = engines.tts;
    this.missing = engines.missing;
    this.metrics = metrics;
  }

  /**
   * Loads the VAD model and finds the speech engines: the remote ones configured, the local ones
   * installed. Never downloads anything.
   *
   * @param registry where the {@code yaad.voice.*} meters go
   * @throws IllegalStateException if the VAD model cannot be loaded (a broken build)
   */
  public static Voice start(VoiceConfig config, MeterRegistry registry) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(registry, "registry");
    SileroVad.Model vad = SileroVad.Model.load();
    Voice voice = new Voice(config, vad, Engines.find(config), new VoiceMetrics(registry));
    log.info("{}", voice.describe());
    return voice;
  }

  /**
   * The start-up line: which engines hear and speak which languages, and what to install or
   * configure for more, e.g. {@code voice: hears en (pocketsphinx); speaks en (flite), ur
   * (espeak-ng); Urdu speech-to-text needs a remote Whisper-class server}.
   */
  public String describe() {
    StringBuilder line = new StringBuilder("voice: hears ");
    line.append(listeners.isEmpty() ? "nothing" : String.join(", ", listeners.stream().map(SpeechToText::name).toList()));
    line.append("; speaks ");
    line.append(speakers.isEmpty() ? "nothing" : String.join(", ", speakers.stream().map(TextToSpeech::name).toList()));
    for (String m : missing) {
      line.append("; ").append(m);
    }
    return line.toString();
  }

  /** Whether some engine transcribes {@code language} (a BCP 47 tag; {@code null}: whatever is spoken). */
  public boolean canListen(String language) {
    return stt(Languages.primary(language)) != null;
  }

  /** Whether some engine speaks {@code language} (a BCP 47 tag; {@code null}: English). */
  public boolean canSpeak(String language) {
    String primary = Languages.primary(language);
    return tts(primary == null ? "en" : primary) != null;
  }

  /**
   * Gives {@code session} ears and a mouth: audio in through the returned {@link VoiceSession},
   * the session's greeting and replies out through {@code out}, events to {@code events}. The
   * session's language (read at each turn) picks the transcription language and the voice.
   *
   * @param events  receives events on the pipeline's threads, one at a time; must be quick
   * @param inRate  the caller's sample rate: 8000, 16000, 24000 or 48000
   * @param outRate the sample rate {@code out} wants (8000 to 48000)
   * @throws IllegalArgumentException if a rate is not supported
   */
  public VoiceSession open(Session session, Consumer<VoiceEvent> events, AudioOut out, int inRate, int outRate) {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(events, "events");
    Objects.requireNonNull(out, "out");
    if (inRate != 8000 && inRate != 16000 && inRate != 24000 && inRate != 48000) {
      throw new IllegalArgumentException("inRate must be 8000, 16000, 24000 or 48000 Hz, got " + inRate);
    }
    if (outRate < 8000 || outRate > 48000) {
      throw new IllegalArgumentException("outRate must be between 8000 and 48000 Hz, got " + outRate);
    }
    return new VoicePipeline(this, session, events, out, inRate, outRate);
  }

  VoiceConfig config() {
    return config;
  }

  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  VadThreads vadThreads() {
    return vadThreads;
  }

  SileroVad.Model vad() {
    return vad;
  }

  VoiceMetrics metrics() {
    return metrics;
  }

  /** The engine that transcribes {@code primary} (or whatever is spoken, for {@code null}), or {@code null}. */
  SpeechToText stt(String primary) {
    for (SpeechToText e : listeners) {
      if (e.supports(primary)) {
        return e;
      }
    }
    return null;
  }

  /** The engine that speaks {@code primary}, or {@code null}. */
  TextToSpeech tts(String primary) {
    for (TextToSpeech e : speakers) {
      if (e.supports(primary)) {
        return e;
      }
    }
    return null;
  }

  @Override
  public void close() {
    for (SpeechToText e : listeners) {
      if (e instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception ex) {
          log.debug("voice: closing {} failed: {}", e.name(), ex.toString());
        }
      }
    }
    scheduler.shutdownNow();
    vadThreads.close(); // no ONNX run in flight when the model closes
    if (vadThreads.runs() > 0) {
      log.info("voice: the VAD ran {} windows in {} batches ({} per batch on average)", vadThreads.windows(), vadThreads.runs(),
          String.format(Locale.ROOT, "%.1f", (double) vadThreads.windows() / vadThreads.runs()));
    }
    vad.close();
  }

  /** The engines found at start, and what is missing for more. */
  record Engines(List<SpeechToText> stt, List<TextToSpeech> tts, List<String> missing) {
    static Engines find(VoiceConfig config) {
      List<SpeechToText> stt = new ArrayList<>();
      List<TextToSpeech> tts = new ArrayList<>();
      List<String> missing = new ArrayList<>();
      if (config.remoteStt() != null) {
        stt.add(new OpenAiSpeechToText(config.remoteStt(), config.remoteSttStream()));
      } else if (config.localStt()) {
        PocketSphinx sphinx = PocketSphinx.load(config.pocketSphinxModel());
        if (sphinx != null) {
          stt.add(sphinx);
        } else {
          missing.add("no English speech-to-text: install Debian's pocketsphinx and pocketsphinx-en-us");
        }
        missing.add("Urdu speech-to-text needs a remote Whisper-class server (OpenAI-compatible /audio/transcriptions)");
      } else {
        missing.add("speech-to-text is off: configure a remote OpenAI-compatible server");
      }
      if (config.remoteTts() != null) {
        tts.add(new OpenAiTextToSpeech(config.remoteTts(), config::voiceFor));
      } else if (config.localTts()) {
        for (ProcessTextToSpeech local : ProcessTextToSpeech.installed()) {
          tts.add(local);
        }
        if (tts.stream().noneMatch(e -> e.supports("en"))) {
          missing.add("no English text-to-speech: install Debian's flite");
        }
        if (tts.stream().noneMatch(e -> e.supports("ur"))) {
          missing.add("no Urdu text-to-speech: install Debian's espeak-ng");
        }
      } else {
        missing.add("text-to-speech is off: configure a remote OpenAI-compatible server");
      }
      return new Engines(List.copyOf(stt), List.copyOf(tts), List.copyOf(missing));
    }
  }
}
