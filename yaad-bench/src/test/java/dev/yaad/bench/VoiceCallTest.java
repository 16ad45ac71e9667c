package dev.yaad.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.yaad.testing.SpokenFixtures;
import org.junit.jupiter.api.Test;

/** How a caller decides when it heard the reply: the same rule on every transport. */
class VoiceCallTest {
  /** A caller with no transport: what it would send goes nowhere. */
  private static final class Detached extends VoiceCall {
    @Override
    void sendJson(String json) {}

    @Override
    void sendAudio(byte[] frame) {}

    @Override
    public void close() {}
  }

  @Test
  void replyAudioIsHeardAtItsFirstLoudFrameNotAtTheSilenceBeforeIt() {
    Detached call = new Detached();
    call.streamUtterance(new short[VoiceBenchmark.FRAME], 0);

    call.receivedAudio(new short[VoiceBenchmark.FRAME]); // the speech's leading silence
    call.receivedAudio(quiet());
    assertThat(call.heardEndToEndMs()).isEqualTo(-1);

    call.receivedAudio(speech());
    assertThat(call.heardEndToEndMs()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void replyAudioArrivingAtOnce_isHeardWhenItsSpeechWouldPlay_afterTheSilenceBeforeIt() {
    Detached call = new Detached();
    call.streamUtterance(new short[VoiceBenchmark.FRAME], 0);
    // Over the socket a reply's 120 ms of leading silence and its speech arrive in one message:
    // a player plays the silence first, so the speech is heard at least 120 ms after it arrived.
    short[] reply = new short[6 * VoiceBenchmark.FRAME + VoiceBenchmark.FRAME];
    System.arraycopy(speech(), 0, reply, 6 * VoiceBenchmark.FRAME, VoiceBenchmark.FRAME);
    call.receivedAudio(reply);
    assertThat(call.heardEndToEndMs()).isGreaterThanOrEqualTo(120);
  }

  @Test
  void onACall_loudAudioAfterTheInterruptedRepliesSilence_belongsToTheNextReply() {
    Detached call = new Detached();
    call.received("{\"type\":\"interrupted\"}");
    call.receivedFrame(speech(), System.nanoTime()); // the interrupted reply's tail, already on its way
    double tail = call.audioAfterInterruptedMs();
    assertThat(tail).isGreaterThanOrEqualTo(0);
    for (int i = 0; i < VoiceCall.END_OF_REPLY_MS / 20; i++) {
      call.receivedFrame(new short[VoiceBenchmark.FRAME], System.nanoTime()); // the silence the call sends once the reply is cleared
    }
    call.receivedFrame(speech(), System.nanoTime()); // the next reply, its audio_started still queued on the socket
    assertThat(call.audioAfterInterruptedMs()).isEqualTo(tail);
  }

  @Test
  void onACall_theReplyIsHeardWhereItsFirstLoud20msWindowWasPulled_asOnTheSocket() {
    Detached call = new Detached();
    long before = System.nanoTime();
    call.streamUtterance(new short[VoiceBenchmark.FRAME], 0);
    long after = System.nanoTime();
    long t = after + 1_000_000_000L; // frames pulled 1 s after the speech ended, 10 ms each
    short[] silence = new short[VoiceCall.STEP];
    call.receivedFrame(silence, t);
    call.receivedFrame(silence, t + 10_000_000L);
    assertThat(call.heardEndToEndMs()).isEqualTo(-1);
    call.receivedFrame(java.util.Arrays.copyOf(speech(), VoiceCall.STEP), t + 20_000_000L);
    // The window of the frame pulled at t + 10 ms and the loud one is the first loud 20 ms.
    assertThat(call.heardEndToEndMs()).isBetween((t + 10_000_000L - after) / 1e6, (t + 10_000_000L - before) / 1e6);

    // The socket: the same windows, 10 ms apart, in a message that arrives at once.
    Detached socket = new Detached();
    short[] reply = new short[3 * VoiceCall.STEP];
    System.arraycopy(speech(), 0, reply, 2 * VoiceCall.STEP, VoiceCall.STEP);
    long from = System.nanoTime();
    socket.streamUtterance(new short[VoiceBenchmark.FRAME], 0);
    socket.receivedAudio(reply);
    long to = System.nanoTime();
    assertThat(socket.heardEndToEndMs()).as("heard where the window from 10 ms on starts to play")
        .isBetween(10.0, 10 + (to - from) / 1e6);
  }

  @Test
  void heardSplitsAtAudioStarted_whichOnlyCountsAfterTheSpeechEnded() {
    Detached call = new Detached();
    call.received("{\"type\":\"audio_started\"}"); // an earlier reply's: not this turn's
    call.streamUtterance(new short[VoiceBenchmark.FRAME], 0);
    assertThat(call.heardAfterAudioStartedMs()).isEqualTo(-1);
    long t = System.nanoTime() + 1_000_000_000L;
    call.receivedFrame(new short[VoiceCall.STEP], t);
    long before = System.nanoTime();
    call.received("{\"type\":\"audio_started\"}");
    long after = System.nanoTime();
    call.receivedFrame(java.util.Arrays.copyOf(speech(), VoiceCall.STEP), t + 10_000_000L);
    assertThat(call.heardAfterAudioStartedMs()).isBetween((t - after) / 1e6, (t - before) / 1e6)
        .isLessThan(call.heardEndToEndMs());
  }

  @Test
  void pagePlayout_isThePagesOwnJitterBuffer() throws Exception {
    String app;
    try (java.io.InputStream in = VoiceCallTest.class.getResourceAsStream("/web/app.js")) {
      app = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("const JITTER_SECONDS = ([0-9.]+);").matcher(app);
    assertThat(m.find()).as("web/app.js declares JITTER_SECONDS").isTrue();
    assertThat(Math.round(Double.parseDouble(m.group(1)) * 1000)).isEqualTo(VoiceCall.PAGE_JITTER_MILLIS);
  }

  @Test
  void overTheSocket_thePageHearsTheReplyItsPlayoutBufferLater_andTheRawReadingStays() throws InterruptedException {
    short[] speech = speech(); // made before: the two messages below arrive back to back
    Detached call = new Detached();
    call.streamUtterance(new short[VoiceBenchmark.FRAME], 0);
    call.receivedAudio(speech); // the page's player had run dry: it starts 80 ms after the arrival
    assertThat(call.heardWithPagePlayoutMs() - call.heardEndToEndMs()).isCloseTo(VoiceCall.PAGE_JITTER_MILLIS, within(0.01));

    Thread.sleep(200); // that reply has played out on both players
    call.streamUtterance(new short[VoiceBenchmark.FRAME], 0);
    call.receivedAudio(new short[VoiceBenchmark.FRAME]); // the next reply: silence, then speech right behind it
    call.receivedAudio(speech);
    assertThat(call.heardWithPagePlayoutMs() - call.heardEndToEndMs()).isCloseTo(VoiceCall.PAGE_JITTER_MILLIS, within(0.01));
  }

  @Test
  void onACall_thePageHearsWhatThePullGives() {
    Detached call = new Detached();
    call.streamUtterance(new short[VoiceBenchmark.FRAME], 0);
    long t = System.nanoTime() + 1_000_000_000L;
    call.receivedFrame(java.util.Arrays.copyOf(speech(), VoiceCall.STEP), t);
    call.receivedFrame(java.util.Arrays.copyOf(speech(), VoiceCall.STEP), t + 10_000_000L);
    assertThat(call.heardEndToEndMs()).isPositive();
    assertThat(call.heardWithPagePlayoutMs()).isEqualTo(call.heardEndToEndMs());
  }

  @Test
  void loudnessSeparatesSpeechFromSilenceAndHiss() {
    assertThat(VoiceCall.loud(new short[VoiceBenchmark.FRAME])).isFalse();
    assertThat(VoiceCall.loud(quiet())).isFalse();
    assertThat(VoiceCall.loud(speech())).isTrue();
  }

  private static short[] quiet() {
    short[] hiss = new short[VoiceBenchmark.FRAME];
    for (int i = 0; i < hiss.length; i++) {
      hiss[i] = (short) (i % 2 == 0 ? 50 : -50);
    }
    return hiss;
  }

  /** The loudest 20 ms of real speech (flite). */
  private static short[] speech() {
    short[] pcm = SpokenFixtures.english("hello there", VoiceBenchmark.RATE, 0.0, 0.0);
    short[] best = new short[VoiceBenchmark.FRAME];
    double bestRms = -1;
    for (int i = 0; i + VoiceBenchmark.FRAME <= pcm.length; i += VoiceBenchmark.FRAME) {
      double sum = 0;
      for (int j = i; j < i + VoiceBenchmark.FRAME; j++) {
        sum += (double) pcm[j] * pcm[j];
      }
      if (sum > bestRms) {
        bestRms = sum;
        System.arraycopy(pcm, i, best, 0, VoiceBenchmark.FRAME);
      }
    }
    return best;
  }
}
