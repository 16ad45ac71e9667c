package dev.yaad.memory.embed;

import java.util.List;

/**
 * Turns text into vectors of one model. The port behind which every embedding provider
 * sits: {@link OnnxEmbedder} (in-process, the default) and {@link OpenAiEmbedder} (any
 * OpenAI-compatible {@code /v1/embeddings} endpoint).
 *
 * <p>Vectors are unit length, so the cosine similarity of two of them is their dot product.
 * Implementations are thread-safe. Errors surface as {@link EmbeddingException}, which says
 * whether retrying later may help.
 */
public interface Embedder extends AutoCloseable {

  /** The near-duplicate cosine of a model that names none of its own: set for all-MiniLM-L6-v2. */
  double DEFAULT_DUPLICATE_THRESHOLD = 0.92;

  /**
   * The model's identity, stored beside every vector it produced. Two embedders with the
   * same id must produce comparable vectors; a different id means "re-embed first".
   */
  String modelId();

  /** The length of every vector, or 0 while not yet known (a remote model before its first answer). */
  int dimension();

  /**
   * Embeds the texts, batching as the provider allows.
   *
   * @param texts non-blank texts; an empty list gives an empty list
   * @return one unit-length vector per text, in input order
   * @throws EmbeddingException if the provider fails (after its own retries)
   */
  List<float[]> embed(List<String> texts);

  /**
   * Embeds search queries, for models that embed a question apart from the memories it should
   * find (e5's "query: " and "passage: "); the others embed them as any text.
   */
  default List<float[]> embedQueries(List<String> queries) {
    return embed(queries);
  }

  /**
   * The cosine at or above which two texts of this model are taken for the same fact (when
   * their distinctive words agree, too): each model spreads its cosines differently, so the
   * right value is the model's. Default {@value #DEFAULT_DUPLICATE_THRESHOLD}.
   */
  default double duplicateThreshold() {
    return DEFAULT_DUPLICATE_THRESHOLD;
  }

  /**
   * Runs {@code work} as background work (learning): the in-process model runs background
   * embeddings together, in batches, on at most half the cores, while live callers' run at
   * once as they come. Other providers ignore it.
   */
  static void inBackground(Runnable work) {
    boolean outer = SharedRuns.BACKGROUND.get();
    SharedRuns.BACKGROUND.set(true);
    try {
      work.run();
    } finally {
      SharedRuns.BACKGROUND.set(outer);
    }
  }

  /** Embeds one text; see {@link #embed(List)}. */
  default float[] embed(String text) {
    return embed(List.of(text)).getFirst();
  }

  /**
   * Prepares the model (loads weights, opens connections) so that the first real call does
   * not pay for it. Blocks until done; safe to call more than once.
   */
  default void warmUp() {}

  /** Releases what the embedder holds; the in-process model stays loaded for the process. */
  @Override
  default void close() {}
}
