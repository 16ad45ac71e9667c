package dev.yaad.voice;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How voice sessions listen and speak. {@link #defaults()} is local engines only (whatever is
 * installed) with LiveKit-like turn timing; {@link #builder()} changes any of it.
 *
 * @param minEndpointingDelay wait after the end of speech before the turn goes to the agent
 * @param maxEndpointingDelay the longest such wait, when the transcript seems unfinished
 * @param bargeInMinSpeech    user speech during reply audio this long interrupts it
 * @param bargeInMinWords     ... and so does a shorter utterance with this many words (backchannels such as
 *                            "haan", "yeah", "hmm" not counted)
 * @param vadThreshold        Silero speech probability at which speech starts (it ends below this minus 0.15)
 * @param vadMinSilence       silence that ends an utterance
 * @param maxUtterance        longest utterance kept for speech-to-text (bounds memory: 32 KB per second)
 * @param remoteStt           an OpenAI-compatible {@code /audio/transcriptions} server, or {@code null}
 * @param remoteSttStream     ask it for streamed deltas ({@code stream=true})
 * @param remoteTts           an OpenAI-compatible {@code /audio/speech} server, or {@code null}
 * @param ttsVoices           the remote voice per language (primary subtag such as {@code ur}); key {@code *} is the default
 * @param localStt            use PocketSphinx (English) when no remote speech-to-text is configured
 * @param localTts            use flite (English) and espeak-ng (Urdu) when no remote text-to-speech is configured
 * @param pocketSphinxModel   the PocketSphinx English model directory (holding {@code en-us/}, {@code en-us.lm.bin},
 *                            {@code cmudict-en-us.dict})
 */
public record VoiceConfig(
    Duration minEndpointingDelay, Duration maxEndpointingDelay,
    Duration bargeInMinSpeech, int bargeInMinWords,
    float vadThreshold, Duration vadMinSilence, Duration maxUtterance,
    Provider remoteStt, boolean remoteSttStream,
    Provider remoteTts, Map<String, String> ttsVoices,
    boolean localStt, boolean localTts, Path pocketSphinxModel) {

  public static final Duration DEFAULT_MIN_ENDPOINTING_DELAY = Duration.ofMillis(500);
  public static final Duration DEFAULT_MAX_ENDPOINTING_DELAY = Duration.ofMillis(3000);
  public static final Duration DEFAULT_BARGE_IN_MIN_SPEECH = Duration.ofMillis(300);
  public static final int DEFAULT_BARGE_IN_MIN_WORDS = 2;
  public static final float DEFAULT_VAD_THRESHOLD = 0.5f;
  public static final Duration DEFAULT_VAD_MIN_SILENCE = Duration.ofMillis(300);
  public static final Duration DEFAULT_MAX_UTTERANCE = Duration.ofSeconds(30);
  public static final Path DEFAULT_POCKETSPHINX_MODEL = Path.of("/usr/share/pocketsphinx/model/en-us");
  /** OpenAI's default voice, used when {@link #ttsVoices} names none for a language. */
  public static final String DEFAULT_VOICE = "alloy";

  public VoiceConfig {
    Objects.requireNonNull(minEndpointingDelay, "minEndpointingDelay");
    Objects.requireNonNull(maxEndpointingDelay, "maxEndpointingDelay");
    Objects.requireNonNull(bargeInMinSpeech, "bargeInMinSpeech");
    Objects.requireNonNull(vadMinSilence, "vadMinSilence");
    Objects.requireNonNull(maxUtterance, "maxUtterance");
    Objects.requireNonNull(pocketSphinxModel, "pocketSphinxModel");
    ttsVoices = Map.copyOf(ttsVoices == null ? Map.of() : ttsVoices);
    if (minEndpointingDelay.isNegative() || maxEndpointingDelay.compareTo(minEndpointingDelay) < 0) {
      throw new IllegalArgumentException("endpointing delays must satisfy 0 <= min <= max, got min "
          + minEndpointingDelay.toMillis() + " ms, max " + maxEndpointingDelay.toMillis() + " ms");
    }
    if (bargeInMinSpeech.isNegative() || bargeInMinWords < 1) {
      throw new IllegalArgumentException("bargeInMinSpeech must be >= 0 and bargeInMinWords >= 1, got "
          + bargeInMinSpeech.toMillis() + " ms, " + bargeInMinWords);
    }
    if (!(vadThreshold > 0.15f && vadThreshold < 1f)) {
      throw new IllegalArgumentException("vadThreshold must be in (0.15, 1), got " + vadThreshold);
    }
    if (maxUtterance.toMillis() < 1000) {
      throw new IllegalArgumentException("maxUtterance must be at least 1 s, got " + maxUtterance.toMillis() + " ms");
    }
  }

  /** Local engines only, {@code 500}/{@code 3000} ms endpointing, barge-in at 300 ms or 2 words. */
  public static VoiceConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The remote voice for {@code language} ({@link #ttsVoices} by primary subtag, then {@code *}, then {@link #DEFAULT_VOICE}). */
  public String voiceFor(String language) {
    String primary = Languages.primary(language);
    String voice = primary == null ? null : ttsVoices.get(primary);
    return voice != null ? voice : ttsVoices.getOrDefault("*", DEFAULT_VOICE);
  }

  /**
   * An OpenAI-compatible speech server.
   *
   * @param baseUrl          like the LLM's, with the version: {@code https://api.openai.com/v1}
   *                         (requests go to {@code {baseUrl}/audio/transcriptions} and {@code {baseUrl}/audio/speech})
   * @param apiKey           sent as a bearer token; {@code null} or blank for none
   * @param model            e.g. {@code whisper-1}, {@code gpt-4o-mini-tts}
   * @param connectTimeout   to connect
   * @param firstByteTimeout from the request sent to the response's headers
   * @param maxRetries       retries of a request that failed before its first byte (connection refused, 5xx, 429, timeout)
   */
  public record Provider(String baseUrl, String apiKey, String model, Duration connectTimeout,
                         Duration firstByteTimeout, int maxRetries) {
    public Provider {
      Objects.requireNonNull(baseUrl, "baseUrl");
      Objects.requireNonNull(model, "model");
      if (!baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
        throw new IllegalArgumentException("baseUrl must be an http(s) URL, got " + baseUrl);
      }
      baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
      connectTimeout = connectTimeout == null ? Duration.ofSeconds(3) : connectTimeout;
      firstByteTimeout = firstByteTimeout == null ? Duration.ofSeconds(10) : firstByteTimeout;
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
      }
    }

    /** With 3 s to connect, 10 s to the first byte and one retry. */
    public static Provider of(String baseUrl, String apiKey, String model) {
      return new Provider(baseUrl, apiKey, model, null, null, 1);
    }

    @Override
    public String toString() { // never the key
      return "Provider[" + baseUrl + ", model " + model + (apiKey == null || apiKey.isBlank() ? "" : ", key set") + "]";
    }
  }

  /** Builds a {@link VoiceConfig}; every setting starts at its default. */
  public static final class Builder {
    private Duration minEndpointingDelay = DEFAULT_MIN_ENDPOINTING_DELAY;
    private Duration maxEndpointingDelay = DEFAULT_MAX_ENDPOINTING_DELAY;
    private Duration bargeInMinSpeech = DEFAULT_BARGE_IN_MIN_SPEECH;
    private int bargeInMinWords = DEFAULT_BARGE_IN_MIN_WORDS;
    private float vadThreshold = DEFAULT_VAD_THRESHOLD;
    private Duration vadMinSilence = DEFAULT_VAD_MIN_SILENCE;
    private Duration maxUtterance = DEFAULT_MAX_UTTERANCE;
    private Provider remoteStt;
    private boolean remoteSttStream;
    private Provider remoteTts;
    private Map<String, String> ttsVoices = Map.of();
    private boolean localStt = true;
    private boolean localTts = true;
    private Path pocketSphinxModel = DEFAULT_POCKETSPHINX_MODEL;

    private Builder() {}

    public Builder endpointingDelay(Duration min, Duration max) {
      this.minEndpointingDelay = min;
      this.maxEndpointingDelay = max;
      return this;
    }

    public Builder bargeIn(Duration minSpeech, int minWords) {
      this.bargeInMinSpeech = minSpeech;
      this.bargeInMinWords = minWords;
      return this;
    }

    public Builder vad(float threshold, Duration minSilence) {
      this.vadThreshold = threshold;
      this.vadMinSilence = minSilence;
      return this;
    }

    public Builder maxUtterance(Duration maxUtterance) {
      this.maxUtterance = maxUtterance;
      return this;
    }

    public Builder remoteStt(Provider provider, boolean stream) {
      this.remoteStt = provider;
      this.remoteSttStream = stream;
      return this;
    }

    public Builder remoteTts(Provider provider, Map<String, String> voices) {
      this.remoteTts = provider;
      this.ttsVoices = voices;
      return this;
    }

    public Builder localStt(boolean enabled) {
      this.localStt = enabled;
      return this;
    }

    public Builder localTts(boolean enabled) {
      this.localTts = enabled;
      return this;
    }

    public Builder pocketSphinxModel(Path directory) {
      this.pocketSphinxModel = directory;
      return this;
    }

    /** @throws IllegalArgumentException naming the setting and value that is out of range */
    public VoiceConfig build() {
      return new VoiceConfig(minEndpointingDelay, maxEndpointingDelay, bargeInMinSpeech, bargeInMinWords,
          vadThreshold, vadMinSilence, maxUtterance, remoteStt, remoteSttStream, remoteTts, ttsVoices,
          localStt, localTts, pocketSphinxModel);
    }
  }
}
