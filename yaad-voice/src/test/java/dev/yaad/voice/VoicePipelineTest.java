package dev.yaad.voice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.agent.Session;
import dev.yaad.memory.testing.Await;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pipeline end to end with local engines and real audio (flite speaks, sox pads and adds
 * noise), against a real session: the agent runtime, the scripted LLM server on loopback, H2.
 */
class VoicePipelineTest extends PipelineTestSupport {
  static Voice voice;

  @BeforeAll
  static void startVoice() {
    voice = Voice.start(VoiceConfig.defaults(), registry);
  }

  @AfterAll
  static void closeVoice() {
    voice.close();
  }

  private VoiceSession open(Session s, AudioOut out, int inRate, int outRate) {
    return open(voice, s, out, inRate, outRate);
  }

  @Test
  void englishSentences_localEngines_wordErrorRateAtMost15Percent() {
    List<String> sentences = List.of(
        "the weather is nice today", "i would like a cup of tea", "my brother lives in new york",
        "please call me tomorrow morning", "we went to the market yesterday", "she is reading a good book",
        "the train leaves at seven", "i forgot my keys at home", "can you tell me a story",
        "my favorite color is blue", "he plays football every sunday", "the children are playing outside");
    Session session = session("listener");
    VoiceSession voiceSession = open(session, new PlayedOut(16_000), 16_000, 16_000);
    int errors = 0;
    int words = 0;
    for (int i = 0; i < sentences.size(); i++) {
      int expected = i + 1;
      Fixtures.feed(voiceSession, Fixtures.english(sentences.get(i), 16_000, 700), 16_000, false);
      Await.until(() -> finalTranscripts().size() >= expected, Duration.ofSeconds(20), "transcript " + expected);
      errors += Fixtures.wordErrors(sentences.get(i), finalTranscripts().get(i));
      words += Sentences.words(sentences.get(i)).length;
    }
    voiceSession.close();
    double wer = (double) errors / words;
    System.out.printf("voice: PocketSphinx WER on %d flite sentences: %.1f%% (%d/%d); transcripts %s%n",
        sentences.size(), 100 * wer, errors, words, finalTranscripts());
    assertThat(wer).as("word error rate, transcripts %s", finalTranscripts()).isLessThanOrEqualTo(0.15);
  }

  @Test
  void spokenTurn_getsASpokenReply_firstAudioBeforeTheReplyIsComplete() throws Exception {
    llmServer.rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text(LONG_REPLY));
    llmServer.latency(Duration.ofMillis(30), Duration.ofMillis(25));
    Session session = session("talker");
    PlayedOut out = new PlayedOut(24_000, 4);
    VoiceSession voiceSession = open(session, new AudioOut() { // marks the first audio in the timeline
      @Override
      public void play(short[] pcm) {
        if (out.receivedSamples() == 0) {
          timeline.add("first audio");
        }
        out.play(pcm);
      }

      @Override
      public void stop() {
        out.stop();
      }

      @Override
      public long queuedMillis() {
        return out.queuedMillis();
      }
    }, 16_000, 24_000);
    Fixtures.feed(voiceSession, Fixtures.english("can you tell me a story", 16_000, 900), 16_000, true);
    Await.until(() -> !events(VoiceEvent.TurnMetrics.class).isEmpty(), Duration.ofSeconds(30), "the reply's metrics");
    assertThat(finalTranscripts()).hasSize(1);
    assertThat(llmServer.calls(Purpose.CONVERSATION).getFirst().lastUserMessage()).isEqualTo(finalTranscripts().getFirst());
    assertThat(timeline).containsSubsequence("speech_started", "speech_ended", "transcript", "audio_started", "first audio",
        "audio_ended", "voice_metrics"); // audio_started before the audio, for a transport that sends events first
    // Sentence by sentence: the first audio left while the LLM was still streaming the reply.
    assertThat(timeline.indexOf("audio_started")).isLessThan(timeline.indexOf("speech_ended REPLY COMPLETED"));
    VoiceEvent.AudioEnded ended = events(VoiceEvent.AudioEnded.class).getFirst();
    assertThat(ended.interrupted()).isFalse();
    assertThat(out.receivedSamples()).isGreaterThan(24_000L * 10); // five sentences: well over 10 s of speech
    assertThat(ended.audioMs()).isEqualTo(out.receivedSamples() * 1000 / 24_000);
    // Listened to: the reply's first sentence is loud speech, and PocketSphinx hears its words.
    short[] heard = Resampler.convert(out.firstSeconds(), 24_000, 16_000);
    assertThat(rms(heard)).as("loudness of the reply's first seconds").isGreaterThan(500);
    try (PocketSphinx sphinx = PocketSphinx.load(VoiceConfig.DEFAULT_POCKETSPHINX_MODEL)) {
      String text = sphinx.transcribe(Arrays.copyOf(heard, 16_000 * 4), "en", p -> {}).text();
      assertThat(text).as("what the reply's first four seconds say").containsIgnoringCase("once upon a time");
    }
    VoiceEvent.TurnMetrics m = events(VoiceEvent.TurnMetrics.class).getFirst();
    assertThat(m.replyId()).isEqualTo(ended.replyId());
    assertThat(m.endOfUtteranceMs()).isGreaterThanOrEqualTo(VoiceConfig.DEFAULT_MIN_ENDPOINTING_DELAY.toMillis());
    assertThat(List.of(m.sttMs(), m.llmFirstTokenMs(), m.ttsFirstByteMs(), m.endToEndMs())).doesNotContainNull();
    assertThat(m.endToEndMs()).isGreaterThanOrEqualTo(m.endOfUtteranceMs() + m.llmFirstTokenMs());
    assertThat(List.of(m.transcriptMs(), m.firstSentenceMs())).doesNotContainNull();
    assertThat(m.transcriptMs()).isLessThanOrEqualTo(m.endOfUtteranceMs());
    assertThat(m.firstSentenceMs()).isGreaterThanOrEqualTo(m.llmFirstTokenMs());
    assertThat(m.endToEndMs()).isGreaterThanOrEqualTo(m.endOfUtteranceMs() + m.firstSentenceMs() + m.ttsFirstByteMs());
    assertThat(m.interrupted()).isFalse();
    assertThat(registry.find("yaad.voice.end_to_end").timer().count()).isGreaterThanOrEqualTo(1);
    voiceSession.close();
  }

  private static double rms(short[] pcm) {
    double sum = 0;
    for (short v : pcm) {
      sum += (double) v * v;
    }
    return Math.sqrt(sum / Math.max(1, pcm.length));
  }

  /** A voice session whose user asked for a story (spoken, real time) and hears its audio now. */
  private VoiceSession storyPlaying(String user, PlayedOut out) {
    llmServer.rule(c -> c.purpose() == Purpose.CONVERSATION && c.lastUserMessage().contains("story"), c -> Answer.text(LONG_REPLY));
    VoiceSession voiceSession = open(session(user), out, 16_000, 16_000);
    Fixtures.feed(voiceSession, Fixtures.english("can you tell me a story", 16_000, 900), 16_000, true);
    Await.until(() -> timeline.contains("audio_started"), Duration.ofSeconds(20), "the reply's audio");
    return voiceSession;
  }

  @Test
  void bargeIn_stopsTheAudio_andHistoryKeepsOnlyWhatWasHeard() {
    PlayedOut out = new PlayedOut(16_000);
    VoiceSession voiceSession = storyPlaying("barger", out);
    Fixtures.feed(voiceSession, Fixtures.silence(2000, 16_000), 16_000, true); // two seconds of the story are heard
    Fixtures.feed(voiceSession, Fixtures.english("wait, what was her name", 16_000, 900), 16_000, true);
    Await.until(() -> !events(VoiceEvent.Interrupted.class).isEmpty(), Duration.ofSeconds(10), "the barge-in");
    VoiceEvent.Interrupted cut = events(VoiceEvent.Interrupted.class).getFirst();
    assertThat(out.stops.get()).isGreaterThanOrEqualTo(1);
    assertThat(cut.heardMs()).isBetween(1500L, 5000L);
    assertThat(cut.heardText()).isNotBlank();
    assertThat(LONG_REPLY).startsWith(cut.heardText()).isNotEqualTo(cut.heardText());
    assertThat(events(VoiceEvent.AudioEnded.class).getFirst().interrupted()).isTrue();
    // The interruption became the next turn; the model saw only the heard part as the companion's words.
    Await.until(() -> llmServer.calls(Purpose.CONVERSATION).size() >= 2, Duration.ofSeconds(20), "the next turn");
    List<String> said = new ArrayList<>();
    for (var m : llmServer.calls(Purpose.CONVERSATION).get(1).body().path("messages")) {
      if ("assistant".equals(m.path("role").asText())) {
        said.add(m.path("content").asText());
      }
    }
    assertThat(said).containsExactly(cut.heardText());
    voiceSession.close();
  }

  @Test
  void shortBackchannel_doesNotInterrupt() {
    PlayedOut out = new PlayedOut(16_000);
    VoiceSession voiceSession = storyPlaying("listener-who-nods", out);
    Fixtures.feed(voiceSession, Fixtures.silence(1000, 16_000), 16_000, true);
    Fixtures.feed(voiceSession, Fixtures.englishBrisk("yeah", 16_000, 900), 16_000, true);
    Await.until(() -> timeline.stream().filter("speech_ended"::equals).count() >= 2, Duration.ofSeconds(10), "the backchannel heard");
    Fixtures.feed(voiceSession, Fixtures.silence(1500, 16_000), 16_000, true); // time to transcribe and decide
    assertThat(events(VoiceEvent.Interrupted.class)).isEmpty();
    assertThat(out.stops.get()).isZero();
    assertThat(llmServer.calls(Purpose.CONVERSATION)).hasSize(1); // "yeah" was not a turn
    voiceSession.close();
  }

  /**
   * The VAD runs off the transport's thread (on the voice's VAD threads): audio handed over far
   * faster than real time is still seen whole and in order, so speech starts and ends exactly
   * where the VAD run directly over the same samples finds it.
   */
  @Test
  void audioFasterThanRealTime_vadSeesItInOrder_speechWhereTheVadFindsIt() {
    short[] one = Fixtures.english("the weather is nice today", 16_000, 800);
    short[] two = Fixtures.english("my brother lives in new york", 16_000, 800);
    short[] both = Arrays.copyOf(one, one.length + two.length);
    System.arraycopy(two, 0, both, one.length, two.length);
    List<Long> expected = new ArrayList<>();
    VoiceConfig config = voice.config();
    SileroVad direct = new SileroVad(voice.vad(), config.vadThreshold(), config.vadMinSilence().toMillis(), new SileroVad.Listener() {
      @Override
      public void speechStarted(long startSample) {
        expected.add(startSample * 1000 / 16_000);
      }

      @Override
      public void speechEnded(long startSample, long endSample) {
        expected.add(endSample * 1000 / 16_000);
      }
    });
    direct.accept(both, both.length);
    assertThat(expected).hasSize(4);

    Session session = session("in-a-hurry");
    VoiceSession voiceSession = open(session, new PlayedOut(16_000), 16_000, 16_000);
    Fixtures.feed(voiceSession, both, 16_000, false);
    Await.until(() -> events(VoiceEvent.SpeechEnded.class).size() >= 2, Duration.ofSeconds(20), "both utterances ended");
    List<Long> seen = new ArrayList<>();
    List<VoiceEvent.SpeechStarted> starts = events(VoiceEvent.SpeechStarted.class);
    List<VoiceEvent.SpeechEnded> ends = events(VoiceEvent.SpeechEnded.class);
    for (int i = 0; i < 2; i++) {
      seen.add(starts.get(i).atMs());
      seen.add(ends.get(i).atMs());
    }
    assertThat(seen).isEqualTo(expected);
    voiceSession.close();
  }

  /** An utterance over the limit is cut there: the client is told once, and what was kept is transcribed. */
  @Test
  void anUtteranceOverTheLimit_isCutThere_andTheClientIsTold() {
    try (Voice shortLimit = Voice.start(VoiceConfig.builder().maxUtterance(Duration.ofSeconds(1)).build(), registry)) {
      Session session = session("long-talker");
      VoiceSession voiceSession = open(shortLimit, session, new PlayedOut(16_000), 16_000, 16_000);
      short[] speech = Fixtures.english("I am going to Lahore next week to see my sister and my brother", 16_000, 700);
      assertThat(speech.length).as("the fixture's samples").isGreaterThan(2 * 16_000);
      Fixtures.feed(voiceSession, speech, 16_000, false);
      Await.until(() -> !finalTranscripts().isEmpty(), Duration.ofSeconds(20), "a transcript");
      assertThat(events(VoiceEvent.Error.class)).singleElement().satisfies(e -> {
        assertThat(e.code()).isEqualTo("utterance_too_long");
        assertThat(e.message()).contains("1000 ms");
      });
      assertThat(finalTranscripts().getFirst()).as("what the first second holds").isNotBlank();
      voiceSession.close();
    }
  }

  @Test
  void input_at48k_isResampledAndTranscribed() {
    Session session = session("rate-48k");
    VoiceSession voiceSession = open(session, new PlayedOut(48_000), 48_000, 48_000);
    String said = "my brother lives in new york";
    Fixtures.feed(voiceSession, Fixtures.english(said, 48_000, 700), 48_000, false);
    Await.until(() -> !finalTranscripts().isEmpty(), Duration.ofSeconds(20), "a transcript");
    assertThat(Fixtures.wordErrors(said, finalTranscripts().getFirst())).as("%s", finalTranscripts()).isLessThanOrEqualTo(1);
    voiceSession.close();
  }

  /**
   * Telephone audio: the speech is found where it is and transcribed, but PocketSphinx's only
   * Debian model is wideband (16 kHz), so what it makes of 8 kHz speech is not checked here.
   */
  @Test
  void input_at8k_isResampled_speechFoundWhereItIs() {
    Session session = session("rate-8k");
    VoiceSession voiceSession = open(session, new PlayedOut(8_000), 8_000, 8_000);
    short[] speech = Fixtures.english("my brother lives in new york", 8_000, 700);
    short[] atHalfASecond = new short[4_000 + speech.length];
    System.arraycopy(speech, 0, atHalfASecond, 4_000, speech.length);
    Fixtures.feed(voiceSession, atHalfASecond, 8_000, false);
    Await.until(() -> !finalTranscripts().isEmpty(), Duration.ofSeconds(20), "a transcript");
    VoiceEvent.SpeechStarted started = events(VoiceEvent.SpeechStarted.class).getFirst();
    VoiceEvent.SpeechEnded ended = events(VoiceEvent.SpeechEnded.class).getFirst();
    long speechMs = (speech.length - 4_000 /* 0.2 s lead-in */ - 5_600 /* 0.7 s pad */) / 8;
    assertThat(started.atMs()).isBetween(500L + 100, 500L + 600); // the fixture's 200 ms lead-in, flite's own, a window or two
    assertThat(ended.durationMs()).isBetween(speechMs - 300, speechMs + 300);
    assertThat(finalTranscripts().getFirst()).isNotBlank();
    voiceSession.close();
  }

  @Test
  void typedUrduTurnAndGreeting_areSpoken_inTheSessionsLanguage() {
    llmServer.rule(c -> c.purpose() == Purpose.CONVERSATION, c -> Answer.text("جی ہاں، میں ٹھیک ہوں۔ آپ کیسے ہیں؟"));
    Session session = runtime.open("urdu-typist");
    session.language("ur-PK");
    PlayedOut out = new PlayedOut(24_000, 8);
    VoiceSession voiceSession = open(session, out, 16_000, 24_000);
    session.ready();
    session.greet();
    Await.until(() -> events(VoiceEvent.AudioEnded.class).size() >= 1, Duration.ofSeconds(20), "the greeting's audio");
    assertThat(events(VoiceEvent.AudioStarted.class).getFirst().replyId()).startsWith("g-");
    long greetingSamples = out.receivedSamples();
    assertThat(greetingSamples).isGreaterThan(24_000L / 2);
    session.reply("آپ کیسے ہیں؟"); // typed, in a voice session: the reply is spoken all the same
    Await.until(() -> events(VoiceEvent.AudioEnded.class).size() >= 2, Duration.ofSeconds(20), "the reply's audio");
    assertThat(out.receivedSamples() - greetingSamples).isGreaterThan(24_000L); // two Urdu sentences by espeak-ng
    assertThat(events(VoiceEvent.Error.class)).isEmpty();
    voiceSession.close();
  }
}
