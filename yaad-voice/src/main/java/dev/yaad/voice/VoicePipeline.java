package dev.yaad.voice;

import dev.yaad.agent.Session;
import java.util.function.Consumer;

/** One {@link VoiceSession}: VAD, end of turn, speech-to-text, the agent, text-to-speech, barge-in. */
final class VoicePipeline implements VoiceSession {
  VoicePipeline(Voice voice, Session session, Consumer<VoiceEvent> events, AudioOut out, int inRate, int outRate) {
  }

  @Override
  public void accept(short[] pcm) {
  }

  @Override
  public void close() {
  }
}
