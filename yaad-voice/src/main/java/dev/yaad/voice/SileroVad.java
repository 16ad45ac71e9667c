package dev.yaad.voice;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * Silero VAD v5 over one stream of 16 kHz audio: speech start and end with hysteresis (start at
 * {@code threshold}, end after {@code minSilence} below {@code threshold - 0.15}, as Silero's own
 * iterator does). The model runs on 512-sample windows (32 ms) with the previous window's last 64
 * samples prepended as context, and carries a recurrent state of shape [2, 1, 128] from window to
 * window. One per stream, one thread; the {@link Model} is shared.
 */
final class SileroVad {
  static final int RATE = 16_000;
  static final int WINDOW = 512;
  static final int CONTEXT = 64;

  /** Speech boundaries, in samples since the stream's first. */
  interface Listener {
    void speechStarted(long startSample);

    /** Called for each window while speech goes on (after {@link #speechStarted}). */
    default void speaking(long voicedSamples) {}

    /**
     * Called for each window below the end threshold while speech has not yet ended: a pause,
     * {@code silentSamples} long so far, after the voiced window ending at {@code lastVoicedSample}.
     */
    default void pausing(long lastVoicedSample, long silentSamples) {}

    /** @param endSample just after the last voiced window */
    void speechEnded(long startSample, long endSample);
  }

  private final Model model;
  private final float threshold;
  private final long minSilenceSamples;
  private final Listener listener;
  private final float[] input = new float[CONTEXT + WINDOW];
  private final float[] state = new float[2 * 128];
  private int filled; // samples of the current window in input[CONTEXT...]
  private long position; // samples fed so far
  private boolean speaking;
  private long speechStart;
  private long lastVoiced;
  private float lastProbability;

  SileroVad(Model model, float threshold, long minSilenceMs, Listener listener) {
    this.model = model;
    this.threshold = threshold;
    this.minSilenceSamples = minSilenceMs * RATE / 1000;
    this.listener = listener;
  }

  /** Feeds {@code n} samples; runs the model on each window completed. */
  void accept(short[] pcm, int n) {
    for (int i = 0; i < n; i++) {
      input[CONTEXT + filled++] = pcm[i] / 32768f;
      position++;
      if (filled == WINDOW) {
        window(model.probability(input, state));
        System.arraycopy(input, WINDOW, input, 0, CONTEXT); // this window's tail is the next one's context
        filled = 0;
      }
    }
  }

  boolean speaking() {
    return speaking;
  }

  /** The last window's speech probability. */
  float lastProbability() {
    return lastProbability;
  }

  private void window(float p) {
    lastProbability = p;
    long end = position;
    if (p >= threshold) {
      lastVoiced = end;
      if (!speaking) {
        speaking = true;
        speechStart = end - WINDOW;
        listener.speechStarted(speechStart);
      }
      listener.speaking(end - speechStart);
    } else if (speaking) {
      if (p >= threshold - 0.15f) {
        lastVoiced = end; // in the hysteresis band: still speech
        listener.speaking(end - speechStart);
      } else if (end - lastVoiced >= minSilenceSamples) {
        speaking = false;
        listener.speechEnded(speechStart, lastVoiced);
      } else {
        listener.pausing(lastVoiced, end - lastVoiced);
      }
    }
  }

  /** The loaded model, shared by all streams (ONNX Runtime sessions are safe for concurrent runs). */
  static final class Model implements AutoCloseable {
    private static final String RESOURCE = "silero_vad_v5.onnx";
    private final OrtEnvironment env;
    private final OrtSession session;
    private final OnnxTensor sampleRate;

    private Model(OrtEnvironment env, OrtSession session, OnnxTensor sampleRate) {
      this.env = env;
      this.session = session;
      this.sampleRate = sampleRate;
    }

    /** @throws IllegalStateException if the model is not in the jar (the build fetches it) or does not load */
    static Model load() {
      byte[] bytes;
      try (InputStream in = SileroVad.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("the Silero VAD model dev/yaad/voice/" + RESOURCE
              + " is not on the class path: yaad-voice's build fetches it (src/build/fetch-silero-vad.sh)");
        }
        bytes = in.readAllBytes();
      } catch (IOException e) {
        throw new IllegalStateException("cannot read the Silero VAD model: " + e.getMessage(), e);
      }
      try {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        // One window is ~0.2 ms of work: threads would cost more than they save, across many sessions.
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        OrtSession session = env.createSession(bytes, options);
        return new Model(env, session, OnnxTensor.createTensor(env, new long[] {RATE}));
      } catch (OrtException e) {
        throw new IllegalStateException("cannot load the Silero VAD model: " + e.getMessage(), e);
      }
    }

    /** One window: {@code input} is [context + window] samples; {@code state} is read and replaced. */
    float probability(float[] input, float[] state) {
      try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), new long[] {1, input.length});
           OnnxTensor st = OnnxTensor.createTensor(env, FloatBuffer.wrap(state), new long[] {2, 1, 128});
           OrtSession.Result result = session.run(Map.of("input", in, "state", st, "sr", sampleRate))) {
        float p = ((float[][]) result.get("output").orElseThrow().getValue())[0][0];
        FloatBuffer next = ((OnnxTensor) result.get("stateN").orElseThrow()).getFloatBuffer();
        next.get(state);
        return p;
      } catch (OrtException e) {
        throw new IllegalStateException("Silero VAD failed: " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        sampleRate.close();
        session.close();
      } catch (OrtException e) {
        // closing at shutdown: nothing to do about it
      }
    }
  }
}
