/**
 * WebRTC audio for voice sessions: {@link dev.yaad.webrtc.WebRtcTransport} answers a
 * browser's offer with a {@link dev.yaad.webrtc.WebRtcCall} that turns the caller's Opus into
 * 16-bit PCM frames and the companion's PCM into Opus. Knows nothing of sessions, turns or
 * authentication: the voice pipeline and the server's signalling endpoint sit above it.
 * See {@code docs/webrtc.md}.
 */
package dev.yaad.webrtc;
