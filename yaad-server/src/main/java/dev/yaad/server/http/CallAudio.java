package dev.yaad.server.http;

import dev.yaad.voice.AudioOut;
import dev.yaad.webrtc.WebRtcCall;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The voice pipeline's mouth on a WebRTC call: speech goes to {@link WebRtcCall#send}, a
 * barge-in to {@link WebRtcCall#clearSend}. The call paces it in real time and sends silence
 * between replies.
 */
final class CallAudio implements AudioOut {
  private static final Logger log = LoggerFactory.getLogger(CallAudio.class);
  /**
   * The rate the pipeline speaks in on a call: what the local engines make (flite and espeak-ng
   * at 16 kHz or less); WebRTC resamples to Opus's 48 kHz once.
   */
  static final int OUTPUT_RATE = 16_000;

  private final WebRtcCall call;
  private final int rate;
  private final AtomicLong droppedMillis = new AtomicLong();

  CallAudio(WebRtcCall call, int rate) {
    this.call = call;
    this.rate = rate;
  }

  int rate() {
    return rate;
  }

  /**
   * Queues speech behind what is queued. A call whose send buffer is full (over half a minute
   * queued: a pipeline that speaks far ahead of real time) or closed drops it, counted and
   * logged once per call.
   */
  @Override
  public void play(short[] pcm) {
    if (!call.send(pcm, rate) && call.state() != WebRtcCall.State.CLOSED
        && droppedMillis.getAndAdd(pcm.length * 1000L / rate) == 0) {
      log.warn("webrtc: call {} send buffer full ({} ms queued); reply audio dropped", call.id(), call.queuedMillis());
    }
  }

  /** Barge-in: what is queued and not yet sent is dropped at once. */
  @Override
  public void stop() {
    call.clearSend();
  }

  /** Speech queued and not yet sent, in ms. */
  @Override
  public long queuedMillis() {
    return call.queuedMillis();
  }
}
