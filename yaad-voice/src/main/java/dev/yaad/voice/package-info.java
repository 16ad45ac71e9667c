/**
 * The voice pipeline: a {@link dev.yaad.agent.Session} with ears and a mouth, whatever carries
 * the audio. {@link dev.yaad.voice.Voice} loads what all sessions share (the Silero VAD model,
 * the speech engines); {@link dev.yaad.voice.Voice#open} binds one agent session to a transport's
 * {@link dev.yaad.voice.AudioOut} and event sink and returns the {@link dev.yaad.voice.VoiceSession}
 * the transport feeds with PCM. See docs/voice.md.
 */
package dev.yaad.voice;
