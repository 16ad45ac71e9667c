package dev.yaad.voice;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The per-turn meters, as Prometheus histograms: {@code yaad.voice.end_of_utterance},
 * {@code yaad.voice.stt}, {@code yaad.voice.llm_first_token}, {@code yaad.voice.tts_first_byte},
 * {@code yaad.voice.end_to_end} (timers), {@code yaad.voice.heard} (ms heard of interrupted
 * replies), and the counter {@code yaad.voice.interruptions}.
 */
final class VoiceMetrics {
  private final Timer endOfUtterance;
  private final Timer stt;
  private final Timer llmFirstToken;
  private final Timer ttsFirstByte;
  private final Timer endToEnd;
  private final DistributionSummary heard;
  private final Counter interruptions;

  VoiceMetrics(MeterRegistry registry) {
    endOfUtterance = timer(registry, "yaad.voice.end_of_utterance", "end of the user's speech to the turn handed to the agent");
    stt = timer(registry, "yaad.voice.stt", "speech-to-text of an utterance");
    llmFirstToken = timer(registry, "yaad.voice.llm_first_token", "turn handed to the agent to its first reply token");
    ttsFirstByte = timer(registry, "yaad.voice.tts_first_byte", "a sentence handed to text-to-speech to its first audio");
    endToEnd = timer(registry, "yaad.voice.end_to_end", "end of the user's speech to the first reply audio handed out");
    heard = DistributionSummary.builder("yaad.voice.heard").baseUnit("milliseconds")
        .description("audio of an interrupted reply the user heard").publishPercentileHistogram().register(registry);
    interruptions = Counter.builder("yaad.voice.interruptions").description("replies cut by barge-in").register(registry);
  }

  private static Timer timer(MeterRegistry registry, String name, String description) {
    return Timer.builder(name).description(description).publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
  }

  void turn(VoiceEvent.TurnMetrics m) {
    record(endOfUtterance, m.endOfUtteranceMs());
    record(stt, m.sttMs());
    record(llmFirstToken, m.llmFirstTokenMs());
    record(ttsFirstByte, m.ttsFirstByteMs());
    record(endToEnd, m.endToEndMs());
    if (m.interrupted()) {
      interruptions.increment();
      if (m.heardMs() != null) {
        heard.record(m.heardMs());
      }
    }
  }

  private static void record(Timer timer, Long ms) {
    if (ms != null) {
      timer.record(Duration.ofMillis(ms));
    }
  }
}
