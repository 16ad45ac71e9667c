package dev.yaad.server;

import dev.yaad.voice.VoiceConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * How {@code yaad serve} listens and speaks ({@code docs/voice.md}): OpenAI-compatible remote
 * speech engines given like the LLM (base URL, model, key), else the local ones that are
 * installed (PocketSphinx, flite, espeak-ng); the turn timing; or {@code --voice off}. Each
 * option has an environment variable ({@link #ENV_VARS}).
 */
final class VoiceOptions {
  static final Map<String, String> ENV_VARS = Map.ofEntries(
      Map.entry("--voice", "YAAD_VOICE"),
      Map.entry("--stt-base-url", "YAAD_STT_BASE_URL"),
      Map.entry("--stt-model", "YAAD_STT_MODEL"),
      Map.entry("--stt-api-key", "YAAD_STT_API_KEY"),
      Map.entry("--tts-base-url", "YAAD_TTS_BASE_URL"),
      Map.entry("--tts-model", "YAAD_TTS_MODEL"),
      Map.entry("--tts-voice", "YAAD_TTS_VOICE"),
      Map.entry("--tts-api-key", "YAAD_TTS_API_KEY"),
      Map.entry("--voice-endpointing-min-ms", "YAAD_VOICE_ENDPOINTING_MIN_MS"),
      Map.entry("--voice-endpointing-max-ms", "YAAD_VOICE_ENDPOINTING_MAX_MS"),
      Map.entry("--voice-barge-in-min-ms", "YAAD_VOICE_BARGE_IN_MIN_MS"),
      Map.entry("--voice-barge-in-min-words", "YAAD_VOICE_BARGE_IN_MIN_WORDS"),
      Map.entry("--voice-max-utterance-ms", "YAAD_VOICE_MAX_UTTERANCE_MS"));

  static final String DEFAULT_STT_MODEL = "whisper-1";
  static final String DEFAULT_TTS_MODEL = "tts-1";

  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--voice", paramLabel = "on|off", defaultValue = "on",
      description = "Speech on the server: audio in and out over the session socket. Env YAAD_VOICE. Default: ${DEFAULT-VALUE}.")
  String voice;

  @Option(names = "--stt-base-url", paramLabel = "URL",
      description = {"OpenAI-compatible speech-to-text (/audio/transcriptions), e.g. https://api.openai.com/v1 or a speaches",
          "server. Env YAAD_STT_BASE_URL. Default: local PocketSphinx (English only) if installed."})
  String sttBaseUrl;

  @Option(names = "--stt-model", paramLabel = "MODEL",
      description = "Speech-to-text model, e.g. whisper-1. Env YAAD_STT_MODEL. Default: " + DEFAULT_STT_MODEL + ".")
  String sttModel;

  @Option(names = "--stt-api-key", paramLabel = "KEY", description = "Key for that endpoint. Env YAAD_STT_API_KEY.")
  String sttApiKey;

  @Option(names = "--tts-base-url", paramLabel = "URL",
      description = {"OpenAI-compatible text-to-speech (/audio/speech, pcm), e.g. https://api.openai.com/v1.",
          "Env YAAD_TTS_BASE_URL. Default: local flite (English) and espeak-ng (Urdu) if installed."})
  String ttsBaseUrl;

  @Option(names = "--tts-model", paramLabel = "MODEL",
      description = "Text-to-speech model, e.g. gpt-4o-mini-tts. Env YAAD_TTS_MODEL. Default: " + DEFAULT_TTS_MODEL + ".")
  String ttsModel;

  @Option(names = "--tts-voice", paramLabel = "VOICES",
      description = {"The remote voice: one name for every language (nova), or per language (ur=nova,en=alloy).",
          "Env YAAD_TTS_VOICE. Default: " + VoiceConfig.DEFAULT_VOICE + "."})
  String ttsVoice;

  @Option(names = "--tts-api-key", paramLabel = "KEY", description = "Key for that endpoint. Env YAAD_TTS_API_KEY.")
  String ttsApiKey;

  @Option(names = "--voice-endpointing-min-ms", paramLabel = "MS", defaultValue = "500",
      description = "Wait after the end of speech before the turn is answered. Env YAAD_VOICE_ENDPOINTING_MIN_MS. Default: ${DEFAULT-VALUE}.")
  long endpointingMinMs;

  @Option(names = "--voice-endpointing-max-ms", paramLabel = "MS", defaultValue = "3000",
      description = "The longest such wait, for a transcript that stops mid-sentence. Env YAAD_VOICE_ENDPOINTING_MAX_MS."
          + " Default: ${DEFAULT-VALUE}.")
  long endpointingMaxMs;

  @Option(names = "--voice-barge-in-min-ms", paramLabel = "MS", defaultValue = "300",
      description = "User speech this long interrupts the companion. Env YAAD_VOICE_BARGE_IN_MIN_MS. Default: ${DEFAULT-VALUE}.")
  long bargeInMinMs;

  @Option(names = "--voice-barge-in-min-words", paramLabel = "N", defaultValue = "2",
      description = "...and so does a shorter utterance of this many words (not backchannels such as haan, yeah)."
          + " Env YAAD_VOICE_BARGE_IN_MIN_WORDS. Default: ${DEFAULT-VALUE}.")
  int bargeInMinWords;

  @Option(names = "--voice-max-utterance-ms", paramLabel = "MS", defaultValue = "30000",
      description = "The longest utterance kept for speech-to-text (a session holds 32 KB a second of it); longer speech is"
          + " cut there. Env YAAD_VOICE_MAX_UTTERANCE_MS. Default: ${DEFAULT-VALUE}.")
  long maxUtteranceMs;

  /** The voice configuration, or {@code null} for {@code --voice off}; bad values are usage errors naming the option. */
  VoiceConfig config() {
    String onOff = voice == null ? "on" : voice.strip().toLowerCase(Locale.ROOT);
    if (onOff.equals("off")) {
      return null;
    }
    if (!onOff.equals("on")) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--voice': '" + voice + "'; write on or off");
    }
    VoiceConfig.Builder builder = VoiceConfig.builder();
    try {
      builder.endpointingDelay(Duration.ofMillis(endpointingMinMs), Duration.ofMillis(endpointingMaxMs))
          .bargeIn(Duration.ofMillis(bargeInMinMs), bargeInMinWords)
          .maxUtterance(Duration.ofMillis(maxUtteranceMs));
      if (Main.blankToNull(sttBaseUrl) != null) {
        builder.remoteStt(provider("--stt-base-url", sttBaseUrl, sttApiKey, sttModel, DEFAULT_STT_MODEL), true);
      } else if (Main.blankToNull(sttModel) != null) {
        throw new ParameterException(spec.commandLine(), "--stt-model needs --stt-base-url (YAAD_STT_BASE_URL)");
      }
      if (Main.blankToNull(ttsBaseUrl) != null) {
        builder.remoteTts(provider("--tts-base-url", ttsBaseUrl, ttsApiKey, ttsModel, DEFAULT_TTS_MODEL), voices(ttsVoice));
      } else if (Main.blankToNull(ttsModel) != null || Main.blankToNull(ttsVoice) != null) {
        throw new ParameterException(spec.commandLine(), "--tts-model and --tts-voice need --tts-base-url (YAAD_TTS_BASE_URL)");
      }
      return builder.build();
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      String option = message.startsWith("endpointing") ? "--voice-endpointing-min-ms/--voice-endpointing-max-ms"
          : message.startsWith("bargeIn") ? "--voice-barge-in-min-ms/--voice-barge-in-min-words"
          : message.startsWith("maxUtterance") ? "--voice-max-utterance-ms" : "--voice";
      throw new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + message);
    }
  }

  private VoiceConfig.Provider provider(String option, String baseUrl, String apiKey, String model, String defaultModel) {
    try {
      return VoiceConfig.Provider.of(baseUrl.strip(), Main.blankToNull(apiKey),
          Main.blankToNull(model) == null ? defaultModel : model.strip());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + e.getMessage());
    }
  }

  /** {@code nova} (every language) or {@code ur=nova,en=alloy}; {@code *} is the default key. */
  private Map<String, String> voices(String text) {
    Map<String, String> voices = new HashMap<>();
    if (Main.blankToNull(text) == null) {
      return voices;
    }
    for (String part : text.split(",")) {
      String p = part.strip();
      int eq = p.indexOf('=');
      String language = eq < 0 ? "*" : p.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String name = eq < 0 ? p : p.substring(eq + 1).strip();
      if (language.isEmpty() || name.isEmpty()) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--tts-voice': '" + text
            + "'; write one voice (nova) or language=voice pairs (ur=nova,en=alloy)");
      }
      voices.put(language, name);
    }
    return voices;
  }
}
