package dev.yaad.voice;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * What a voice session tells its client, besides audio. Each event is a record whose component
 * names are meant as JSON field names; {@link #type()} (serialised by Jackson as {@code "type"}) is
 * the message type on the wire, written first. Times are milliseconds; a {@code null} metric was not measured.
 */
@JsonPropertyOrder({"type"})
public sealed interface VoiceEvent {
  /** The message type, e.g. {@code "speech_started"}. */
  @JsonProperty("type")
  String type();

  /**
   * Voice activity detection heard the user start speaking.
   *
   * @param atMs where in the session's input audio the speech starts (ms since the first sample)
   */
  record SpeechStarted(long atMs) implements VoiceEvent {
    @Override
    public String type() {
      return "speech_started";
    }
  }

  /**
   * The user stopped speaking (after the VAD's silence allowance); end of turn comes later.
   *
   * @param atMs       where in the input audio the speech ended
   * @param durationMs how long the speech lasted
   */
  record SpeechEnded(long atMs, long durationMs) implements VoiceEvent {
    @Override
    public String type() {
      return "speech_ended";
    }
  }

  /**
   * What the user said: partial while speech-to-text goes on, then final.
   *
   * @param language the transcription's language (a BCP 47 tag or primary subtag), or {@code null}
   */
  record Transcript(String text, boolean isFinal, String language) implements VoiceEvent {
    @Override
    public String type() {
      return "transcript";
    }
  }

  /**
   * The first audio of a reply (or greeting) is being handed to the audio out: the event is
   * emitted just before that audio, so a transport that writes events ahead of audio delivers it
   * before the reply's first frame.
   */
  record AudioStarted(String replyId) implements VoiceEvent {
    @Override
    public String type() {
      return "audio_started";
    }
  }

  /**
   * A reply's audio ended: it played out (the audio out's {@link AudioOut#queuedMillis()} reached
   * zero after the last of it), or it was cut short.
   *
   * @param audioMs     how much audio was handed out in all
   * @param interrupted whether a barge-in (or close) cut it
   */
  record AudioEnded(String replyId, long audioMs, boolean interrupted) implements VoiceEvent {
    @Override
    public String type() {
      return "audio_ended";
    }
  }

  /**
   * The user barged in: the reply's audio was stopped, its LLM stream cancelled, and the session's
   * history keeps {@code heardText} as what the companion said.
   *
   * @param heardMs   audio the user heard: handed out minus still queued when it stopped
   * @param heardText the reply's text up to the heard point (see docs/voice.md for the mapping)
   */
  record Interrupted(String replyId, long heardMs, String heardText) implements VoiceEvent {
    @Override
    public String type() {
      return "interrupted";
    }
  }

  /**
   * One turn's latencies, sent when its reply's audio ends (or is interrupted).
   *
   * @param endOfUtteranceMs end of the user's speech → the turn handed to the agent
   * @param sttMs            speech-to-text of the turn's last utterance (request to answer)
   * @param transcriptMs     end of the user's speech → that utterance's final transcript (speech-to-text
   *                         starts at a pause, before the VAD's end decision)
   * @param llmFirstTokenMs  the turn handed to the agent → its first reply token
   * @param firstSentenceMs  the turn handed to the agent → the reply's first sentence handed to text-to-speech
   * @param ttsFirstByteMs   the first sentence handed to text-to-speech → its first audio
   * @param endToEndMs       end of the user's speech → the first reply audio handed to the audio out
   * @param heardMs          for an interrupted reply, the audio the user heard; else {@code null}
   */
  record TurnMetrics(
      String replyId, Long endOfUtteranceMs, Long sttMs, Long transcriptMs, Long llmFirstTokenMs, Long firstSentenceMs,
      Long ttsFirstByteMs, Long endToEndMs, boolean interrupted, Long heardMs) implements VoiceEvent {
    @Override
    public String type() {
      return "voice_metrics";
    }
  }

  /**
   * A speech engine failed (or none serves the language). The session goes on: a reply whose
   * audio failed still arrives as text.
   *
   * @param code {@code stt_failed}, {@code tts_failed}, {@code no_stt}, {@code no_tts} or {@code utterance_too_long}
   */
  record Error(String code, String message) implements VoiceEvent {
    @Override
    public String type() {
      return "error";
    }
  }
}
