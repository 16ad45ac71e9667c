package dev.yaad.memory.internal.store;

import java.util.Arrays;
import java.util.Objects;

/**
 * A memory's text as a point in one model's vector space. Vectors of different models are
 * never compared: a search uses only the vectors whose {@code model} is the embedder's.
 *
 * <p>The array is not copied; callers must not change it after handing it over.
 *
 * @param model  the embedding model's identity, e.g. {@code all-minilm-l6-v2}; 1-128 characters
 * @param vector 1 to {@link #MAX_DIMENSION} finite components (unit length by convention)
 */
public record Embedding(String model, float[] vector) {
  public static final int MAX_DIMENSION = 16_384;
  public static final int MAX_MODEL_LENGTH = 128;

  public Embedding {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(vector, "vector");
    if (model.isBlank() || model.length() > MAX_MODEL_LENGTH) {
      throw new IllegalArgumentException("embedding model id must be 1-" + MAX_MODEL_LENGTH + " characters (was '" + model + "')");
    }
    if (vector.length == 0 || vector.length > MAX_DIMENSION) {
      throw new IllegalArgumentException("embedding dimension must be 1-" + MAX_DIMENSION + " (was " + vector.length + ")");
    }
  }

  public int dimension() {
    return vector.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Embedding e && model.equals(e.model) && Arrays.equals(vector, e.vector);
  }

  @Override
  public int hashCode() {
    return 31 * model.hashCode() + Arrays.hashCode(vector);
  }

  @Override
  public String toString() {
    return "Embedding[model=" + model + ", dimension=" + vector.length + "]";
  }
}
