package dev.yaad.voice;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The per-turn meters, as Prometheus histograms: {@code yaad.voice.end_of_utterance},
 * {@code yaad.voice.stt}, {@code yaad.voice.llm_first_token}, {@code yaad.voice.tts_first_byte},
 * {@code yaad.voice.end_to_end}, {@code yaad.voice.heard} (of interrupted replies), and the counter {@code yaad.voice.interruptions}.
 */
final class VoiceMetrics {
  private final Timer endOfUtterance;
  private final Timer stt;
  private final Timer llmFirstToken;
  private final Timer ttsFirstByte;
  private final Timer endToEnd;
  private final Timer heard;
  private final Counter interruptions;

  VoiceMetrics(MeterRegistry registry) {
    endOfUtterance = histogram(Timer.builder("yaad.voice.end_of_utterance")
        .description("end of the user's speech to the turn handed to the agent"), registry);
    stt = histogram(Timer.builder("yaad.voice.stt").description("speech-to-text of a turn's last utterance"), registry);
    llmFirstToken = histogram(Timer.builder("yaad.voice.llm_first_token")
        .description("turn handed to the agent to its first reply token"), registry);
    ttsFirstByte = histogram(Timer.builder("yaad.voice.tts_first_byte")
        .description("a reply's first sentence handed to text-to-speech to its first audio"), registry);
    endToEnd = histogram(Timer.builder("yaad.voice.end_to_end")
        .description("end of the user's speech to the first reply audio handed out"), registry);
    heard = histogram(Timer.builder("yaad.voice.heard").description("audio of an interrupted reply the user heard"), registry);
    interruptions = Counter.builder("yaad.voice.interruptions").description("replies cut by barge-in").register(registry);
  }

  private static Timer histogram(Timer.Builder timer, MeterRegistry registry) {
    return timer.publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
  }

  void turn(VoiceEvent.TurnMetrics m) {
    record(endOfUtterance, m.endOfUtteranceMs());
    record(stt, m.sttMs());
    record(llmFirstToken, m.llmFirstTokenMs());
    record(ttsFirstByte, m.ttsFirstByteMs());
    record(endToEnd, m.endToEndMs());
    if (m.interrupted()) {
      interruptions.increment();
      record(heard, m.heardMs());
    }
  }

  private static void record(Timer timer, Long ms) {
    if (ms != null) {
      timer.record(Duration.ofMillis(ms));
    }
  }
}
