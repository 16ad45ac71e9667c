package dev.yaad.memory.embed;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default embedder: the all-MiniLM-L6-v2 sentence model (384 dimensions) run in-process
 * by ONNX Runtime, with the weights shipped inside LangChain4j's jar. No network, no key.
 *
 * <p>The model is loaded once per process, on first use or by {@link #warmUpInBackground()}
 * (which a server calls at start-up so the first request does not wait about a second for
 * it); all instances share it. Texts of one call are embedded in parallel on a small pool
 * of daemon threads, one per core.
 */
public final class OnnxEmbedder implements Embedder {
  public static final String MODEL_ID = "all-minilm-l6-v2";
  public static final int DIMENSION = 384;
  private static final Logger log = LoggerFactory.getLogger(OnnxEmbedder.class);
  private static final OnnxEmbedder INSTANCE = new OnnxEmbedder();

  private OnnxEmbedder() {}

  /** The process-wide embedder; cheap, the model loads on first use. */
  public static OnnxEmbedder shared() {
    return INSTANCE;
  }

  @Override
  public String modelId() {
    return MODEL_ID;
  }

  @Override
  public int dimension() {
    return DIMENSION;
  }

  @Override
  public List<float[]> embed(List<String> texts) {
    if (texts.isEmpty()) {
      return List.of();
    }
    List<TextSegment> segments = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i);
      if (text == null || text.isBlank()) {
        throw new IllegalArgumentException("texts[" + i + "] is blank; only non-blank text can be embedded");
      }
      segments.add(TextSegment.from(text));
    }
    try {
      var embeddings = Holder.MODEL.embedAll(segments).content();
      List<float[]> vectors = new ArrayList<>(embeddings.size());
      for (var e : embeddings) {
        vectors.add(Vectors.normalize(e.vector()));
      }
      return vectors;
    } catch (RuntimeException e) {
      throw new EmbeddingException("in-process embedding with " + MODEL_ID + " failed for " + texts.size()
          + " text(s): " + e.getMessage(), false, e);
    }
  }

  @Override
  public void warmUp() {
    Holder.MODEL.embed("warm up");
  }

  /** Loads the model on a background daemon thread and returns at once. */
  public CompletableFuture<Void> warmUpInBackground() {
    var done = new CompletableFuture<Void>();
    Thread.ofPlatform().daemon().name("yaad-embed-warmup").start(() -> {
      try {
        warmUp();
        done.complete(null);
      } catch (Throwable t) {
        log.warn("embed: warming up {} failed: {}", MODEL_ID, t.toString());
        done.completeExceptionally(t);
      }
    });
    return done;
  }

  /** Lazy holder: the JVM runs this initialiser once, on first access, thread-safely. */
  private static final class Holder {
    static final AllMiniLmL6V2EmbeddingModel MODEL = load();

    private static AllMiniLmL6V2EmbeddingModel load() {
      long start = System.nanoTime();
      int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
      AtomicInteger n = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(threads,
          r -> Thread.ofPlatform().daemon().name("yaad-embed-" + n.incrementAndGet()).unstarted(r));
      var model = new AllMiniLmL6V2EmbeddingModel(pool);
      model.embed("warm up"); // the first inference initialises ONNX Runtime's kernels
      log.info("embed: loaded {} ({} dimensions, {} threads) in {} ms",
          MODEL_ID, DIMENSION, threads, (System.nanoTime() - start) / 1_000_000);
      return model;
    }
  }
}
