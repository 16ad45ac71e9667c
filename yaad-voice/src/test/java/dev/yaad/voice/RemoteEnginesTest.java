package dev.yaad.voice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.agent.Session;
import dev.yaad.memory.testing.Await;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedSpeechServer;
import dev.yaad.testing.ScriptedSpeechServer.Endpoint;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** OpenAI-compatible speech engines against the scripted speech server on loopback, with real audio both ways. */
class RemoteEnginesTest extends PipelineTestSupport {
  ScriptedSpeechServer speech;
  Voice voice;

  @BeforeEach
  void startSpeech() {
    speech = ScriptedSpeechServer.start().transcript("Tell me about your day.");
  }

  @AfterEach
  void stopSpeech() {
    if (voice != null) {
      voice.close();
    }
    speech.close();
  }

  private Voice remoteVoice(boolean stream, Duration firstByteTimeout) {
    VoiceConfig.Provider provider = new VoiceConfig.Provider(speech.baseUrl(), "test-key", "scripted",
        Duration.ofSeconds(2), firstByteTimeout, 1);
    voice = Voice.start(VoiceConfig.builder()
        .remoteStt(provider, stream)
        .remoteTts(provider, Map.of("ur", "urdu-voice", "*", "nova"))
        .build(), registry);
    return voice;
  }

  private void say(VoiceSession voiceSession, String text) {
    Fixtures.feed(voiceSession, Fixtures.english(text, 16_000, 700), 16_000, false);
  }

  @Test
  void remoteEngines_transcribeTheUtterance_andSpeakTheReply() {
    Session session = session("remote-talker");
    session.language("en-GB");
    PlayedOut out = new PlayedOut(16_000, 8);
    VoiceSession voiceSession = open(remoteVoice(false, Duration.ofSeconds(5)), session, out, 16_000, 16_000);
    assertThat(voice.canListen("ur-PK")).isTrue();
    assertThat(voice.canSpeak("ur")).isTrue();
    say(voiceSession, "how was your day");
    Await.until(() -> timeline.contains("voice_metrics"), Duration.ofSeconds(30), "the spoken reply");
    assertThat(finalTranscripts()).containsExactly("Tell me about your day.");
    assertThat(llmServer.calls(Purpose.CONVERSATION).getFirst().lastUserMessage()).isEqualTo("Tell me about your day.");
    var asked = speech.requests(Endpoint.TRANSCRIPTIONS).getFirst().fields();
    assertThat(asked).containsEntry("model", "scripted").containsEntry("language", "en").doesNotContainKey("stream");
    assertThat(Integer.parseInt(asked.get("file"))).isGreaterThan(16_000 * 2); // a WAV of over a second of speech
    var spoken = speech.requests(Endpoint.SPEECH).getFirst().fields();
    assertThat(spoken).containsEntry("voice", "nova").containsEntry("response_format", "pcm");
    assertThat(out.receivedSamples()).isGreaterThan(16_000L);
    assertThat(events(VoiceEvent.Error.class)).isEmpty();
    voiceSession.close();
  }

  @Test
  void streamedTranscription_givesPartialsThenTheFinal() {
    Session session = session("remote-streamer");
    VoiceSession voiceSession = open(remoteVoice(true, Duration.ofSeconds(5)), session, new PlayedOut(16_000, 8), 16_000, 16_000);
    say(voiceSession, "how was your day");
    Await.until(() -> !finalTranscripts().isEmpty(), Duration.ofSeconds(20), "the final transcript");
    assertThat(events(VoiceEvent.Transcript.class)).filteredOn(t -> !t.isFinal()).extracting(VoiceEvent.Transcript::text)
        .startsWith("Tell", "Tell me");
    assertThat(finalTranscripts()).containsExactly("Tell me about your day.");
    assertThat(speech.requests(Endpoint.TRANSCRIPTIONS).getFirst().fields()).containsEntry("stream", "true");
    voiceSession.close();
  }

  /** Where Silero (as the pipeline runs it) hears the first speech in {@code pcm} start and end, in samples. */
  private static long[] vadSpeech(short[] pcm) {
    long[] bounds = {-1, -1};
    try (SileroVad.Model model = SileroVad.Model.load()) {
      SileroVad vad = new SileroVad(model, VoiceConfig.DEFAULT_VAD_THRESHOLD, VoiceConfig.DEFAULT_VAD_MIN_SILENCE.toMillis(),
          new SileroVad.Listener() {
            @Override
            public void speechStarted(long startSample) {
              if (bounds[0] < 0) {
                bounds[0] = startSample;
              }
            }

            @Override
            public void speechEnded(long startSample, long endSample) {
              if (bounds[1] < 0) {
                bounds[1] = endSample;
              }
            }
          });
      vad.accept(pcm, pcm.length);
    }
    assertThat(bounds).as("speech found in the fixture").doesNotContain(-1L);
    return bounds;
  }

  /**
   * {@code text} spoken up to 200 ms after its last voiced window: past the 100 ms of pause that
   * start transcription, short of the 300 ms that end the utterance (the VAD runs on the same
   * audio as here, so it decides the same).
   */
  private static short[] spokenThenPause(String text) {
    short[] spoken = Fixtures.english(text, 16_000, 700);
    return java.util.Arrays.copyOf(spoken, (int) vadSpeech(spoken)[1] + 16_000 * 200 / 1000);
  }

  @Test
  void transcription_startsAtAPause_beforeTheVadEndsTheUtterance_andIsUsedForTheTurn() {
    Session session = session("remote-early");
    VoiceSession voiceSession = open(remoteVoice(false, Duration.ofSeconds(5)), session, new PlayedOut(16_000, 8), 16_000, 16_000);
    Fixtures.feed(voiceSession, spokenThenPause("how was your day"), 16_000, false);
    Await.until(() -> !speech.requests(Endpoint.TRANSCRIPTIONS).isEmpty(), Duration.ofSeconds(20), "a transcription during the pause");
    assertThat(timeline).contains("speech_started").doesNotContain("speech_ended");
    int asked = speech.requests(Endpoint.TRANSCRIPTIONS).size();
    Fixtures.feed(voiceSession, Fixtures.silence(700, 16_000), 16_000, false);
    Await.until(() -> llmServer.count(Purpose.CONVERSATION) == 1, Duration.ofSeconds(20), "the reply");
    assertThat(speech.requests(Endpoint.TRANSCRIPTIONS)).as("the pause's transcription is the utterance's").hasSize(asked);
    assertThat(finalTranscripts()).containsExactly("Tell me about your day.");
    voiceSession.close();
  }

  @Test
  void speechGoingOnAfterAPause_dropsThePausesTranscription() {
    Session session = session("remote-pauser");
    VoiceSession voiceSession = open(remoteVoice(false, Duration.ofSeconds(5)), session, new PlayedOut(16_000, 8), 16_000, 16_000);
    Fixtures.feed(voiceSession, spokenThenPause("how was your day"), 16_000, false);
    Await.until(() -> !speech.requests(Endpoint.TRANSCRIPTIONS).isEmpty(), Duration.ofSeconds(20), "a transcription during the pause");
    int asked = speech.requests(Endpoint.TRANSCRIPTIONS).size();
    short[] more = Fixtures.english("and what did you eat", 16_000, 700);
    Fixtures.feed(voiceSession, java.util.Arrays.copyOfRange(more, (int) vadSpeech(more)[0], more.length), 16_000, false); // no pause before it
    Await.until(() -> llmServer.count(Purpose.CONVERSATION) == 1, Duration.ofSeconds(20), "the reply");
    assertThat(speech.requests(Endpoint.TRANSCRIPTIONS)).hasSizeGreaterThan(asked);
    assertThat(timeline).containsOnlyOnce("speech_ended");
    // One utterance, one transcript: the dropped transcription's text is not in the turn.
    assertThat(finalTranscripts()).containsExactly("Tell me about your day.");
    assertThat(llmServer.calls(Purpose.CONVERSATION).getFirst().lastUserMessage()).isEqualTo("Tell me about your day.");
    voiceSession.close();
  }

  @Test
  void transcription500_retriedOnceBeforeTheFirstByte() {
    speech.fail(Endpoint.TRANSCRIPTIONS, 500, 1);
    Session session = session("remote-retry");
    VoiceSession voiceSession = open(remoteVoice(false, Duration.ofSeconds(5)), session, new PlayedOut(16_000, 8), 16_000, 16_000);
    say(voiceSession, "how was your day");
    Await.until(() -> !finalTranscripts().isEmpty(), Duration.ofSeconds(20), "the transcript after a retry");
    assertThat(speech.requests(Endpoint.TRANSCRIPTIONS)).hasSize(2);
    assertThat(events(VoiceEvent.Error.class)).isEmpty();
    voiceSession.close();
  }

  @Test
  void transcriptionFailing_errorEvent_andTheSessionGoesOn() {
    speech.fail(Endpoint.TRANSCRIPTIONS, 500, 2); // the request and its one retry
    Session session = session("remote-stt-down");
    VoiceSession voiceSession = open(remoteVoice(false, Duration.ofSeconds(5)), session, new PlayedOut(16_000, 8), 16_000, 16_000);
    say(voiceSession, "how was your day");
    Await.until(() -> !events(VoiceEvent.Error.class).isEmpty(), Duration.ofSeconds(20), "the error event");
    VoiceEvent.Error error = events(VoiceEvent.Error.class).getFirst();
    assertThat(error.code()).isEqualTo("stt_failed");
    assertThat(error.message()).contains("HTTP 500").doesNotContain("test-key");
    // The provider is back: the next utterance is a turn as usual.
    say(voiceSession, "how was your day");
    Await.until(() -> !finalTranscripts().isEmpty(), Duration.ofSeconds(20), "the next transcript");
    Await.until(() -> llmServer.count(Purpose.CONVERSATION) == 1, Duration.ofSeconds(20), "the reply");
    voiceSession.close();
  }

  @Test
  void speechServerFailing_errorEvent_andTheReplyStillArrivesAsText() {
    speech.fail(Endpoint.SPEECH, 500, 100);
    assertReplyArrivesAsTextDespiteSpeechFailure(Duration.ofSeconds(5), "HTTP 500");
  }

  @Test
  void speechServerHanging_timesOut_errorEvent_andTheReplyStillArrivesAsText() {
    speech.hang(Endpoint.SPEECH, 100);
    assertReplyArrivesAsTextDespiteSpeechFailure(Duration.ofMillis(400), "no response within 400 ms");
  }

  private void assertReplyArrivesAsTextDespiteSpeechFailure(Duration firstByteTimeout, String why) {
    Session session = session("remote-tts-down");
    PlayedOut out = new PlayedOut(16_000);
    VoiceSession voiceSession = open(remoteVoice(false, firstByteTimeout), session, out, 16_000, 16_000);
    say(voiceSession, "how was your day");
    Await.until(() -> !events(VoiceEvent.Error.class).isEmpty(), Duration.ofSeconds(20), "the error event");
    VoiceEvent.Error error = events(VoiceEvent.Error.class).getFirst();
    assertThat(error.code()).isEqualTo("tts_failed");
    assertThat(error.message()).contains(why);
    Await.until(() -> timeline.contains("speech_ended REPLY COMPLETED"), Duration.ofSeconds(20), "the reply as text");
    assertThat(out.receivedSamples()).isZero();
    assertThat(speech.requests(Endpoint.SPEECH)).hasSize(2); // the request and its one retry, for the first sentence only
    voiceSession.close();
  }
}
