package dev.yaad.voice;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

/**
 * Silero VAD v5 over one stream of 16 kHz audio: speech start and end with hysteresis (start at
 * {@code threshold}, end after {@code minSilence} below {@code threshold - 0.15}, as Silero's own
 * iterator does). The model runs on 512-sample windows (32 ms) with the previous window's last 64
 * samples prepended as context, and carries a recurrent state of shape [2, 1, 128] from window to
 * window. One per stream, one thread; the {@link Model} is shared, and runs one window of many
 * streams in one call ({@link Model#probabilities}, as {@link VadThreads} does), each stream with its
 * own state.
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

    /** Called for each window first, with the model's speech probability. */
    default void window(float probability) {}
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
    for (int i = 0; i < n; ) {
      i += fill(pcm, i, n);
      if (windowFull()) {
        windowDone(model.probabilities(List.of(this))[0]);
      }
    }
  }

  /** Takes samples from {@code pcm[from..n)} until the window is full; returns how many it took. */
  int fill(short[] pcm, int from, int n) {
    int i = from;
    while (i < n && filled < WINDOW) {
      input[CONTEXT + filled++] = pcm[i++] / 32768f;
    }
    position += i - from;
    return i - from;
  }

  /** The window is full: it waits for its probability ({@link #windowDone}) before more samples. */
  boolean windowFull() {
    return filled == WINDOW;
  }

  /** The full window's probability, from the model: the next window starts, and the listener hears of this one. */
  void windowDone(float p) {
    System.arraycopy(input, WINDOW, input, 0, CONTEXT); // this window's tail is the next one's context
    filled = 0;
    window(p);
  }

  /** The full window is lost (the model failed on it): the next one starts, the state stays. */
  void windowLost() {
    System.arraycopy(input, WINDOW, input, 0, CONTEXT);
    filled = 0;
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
    listener.window(p);
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
    /**
     * Each thread's input and state buffers, direct so that ONNX Runtime reads them where they are
     * (a heap array is copied into a new direct buffer per call: ~15 % of a lone window's CPU);
     * grown to the largest batch the thread has run.
     */
    private final ThreadLocal<FloatBuffer[]> buffers = ThreadLocal.withInitial(() -> new FloatBuffer[] {direct(0), direct(0)});

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
        // One window is ~0.1 ms of work, a batch of 50 ~2 ms: threads would cost more than they
        // save, across many sessions (the VAD has its own threads); none spins waiting for work.
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        options.addConfigEntry("session.intra_op.allow_spinning", "0");
        OrtSession session = env.createSession(bytes, options);
        return new Model(env, session, OnnxTensor.createTensor(env, new long[] {RATE}));
      } catch (OrtException e) {
        throw new IllegalStateException("cannot load the Silero VAD model: " + e.getMessage(), e);
      }
    }

    /**
     * One full window of each stream, in one run of the model (a batch of {@code vads.size()}):
     * returns their probabilities in order, and replaces each stream's state with its next.
     */
    float[] probabilities(List<SileroVad> vads) {
      int batch = vads.size();
      int width = CONTEXT + WINDOW;
      FloatBuffer[] buffers = this.buffers.get();
      if (buffers[0].capacity() < batch * width) {
        buffers[0] = direct(batch * width);
        buffers[1] = direct(2 * batch * 128);
      }
      FloatBuffer inputs = buffers[0].clear().limit(batch * width);
      FloatBuffer states = buffers[1].clear().limit(2 * batch * 128); // [layer][stream][128]
      for (int b = 0; b < batch; b++) {
        SileroVad v = vads.get(b);
        inputs.put(b * width, v.input, 0, width);
        states.put(b * 128, v.state, 0, 128);
        states.put((batch + b) * 128, v.state, 128, 128);
      }
      try (OnnxTensor in = OnnxTensor.createTensor(env, inputs, new long[] {batch, width});
           OnnxTensor st = OnnxTensor.createTensor(env, states, new long[] {2, batch, 128});
           OrtSession.Result result = session.run(Map.of("input", in, "state", st, "sr", sampleRate))) {
        float[] p = new float[batch];
        ((OnnxTensor) result.get("output").orElseThrow()).getFloatBuffer().get(p);
        FloatBuffer next = ((OnnxTensor) result.get("stateN").orElseThrow()).getFloatBuffer();
        for (int b = 0; b < batch; b++) {
          SileroVad v = vads.get(b);
          next.get(b * 128, v.state, 0, 128);
          next.get((batch + b) * 128, v.state, 128, 128);
        }
        return p;
      } catch (OrtException e) {
        throw new IllegalStateException("Silero VAD failed: " + e.getMessage(), e);
      }
    }

    private static FloatBuffer direct(int floats) {
      return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
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
