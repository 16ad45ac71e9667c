package dev.yaad.bench;

import dev.yaad.memory.embed.Embedder;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Development aid for the LoCoMo benchmark: the model's vectors kept in a file between runs,
 * so that a change of ranking is scored in seconds rather than re-embedding every turn. The
 * file is bound to the model id; each vector is the model's, as it was first computed.
 */
final class CachedEmbedder implements Embedder {
  private final Embedder model;
  private final Path file;
  private final Map<String, float[]> vectors = new ConcurrentHashMap<>();
  private volatile boolean changed;

  CachedEmbedder(Embedder model, Path file) {
    this.model = model;
    this.file = file;
    if (Files.exists(file)) {
      try (var in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
        if (in.readUTF().equals(model.modelId())) {
          int n = in.readInt();
          for (int i = 0; i < n; i++) {
            String text = in.readUTF();
            float[] v = new float[in.readInt()];
            for (int d = 0; d < v.length; d++) {
              v[d] = in.readFloat();
            }
            vectors.put(text, v);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Override
  public String modelId() {
    return model.modelId();
  }

  @Override
  public int dimension() {
    return model.dimension();
  }

  @Override
  public List<float[]> embed(List<String> texts) {
    return cached(texts, "P\n", model::embed);
  }

  @Override
  public List<float[]> embedQueries(List<String> texts) {
    return cached(texts, "Q\n", model::embedQueries);
  }

  private List<float[]> cached(List<String> texts, String kind, Function<List<String>, List<float[]>> compute) {
    List<String> missing = texts.stream().filter(t -> !vectors.containsKey(kind + t)).distinct().toList();
    if (!missing.isEmpty()) {
      List<float[]> computed = compute.apply(missing);
      for (int i = 0; i < missing.size(); i++) {
        vectors.put(kind + missing.get(i), computed.get(i));
      }
      changed = true;
    }
    List<float[]> out = new ArrayList<>(texts.size());
    texts.forEach(t -> out.add(vectors.get(kind + t)));
    return out;
  }

  @Override
  public void warmUp() {
    model.warmUp();
  }

  /** Writes the vectors back if any were computed. */
  void save() {
    if (!changed) {
      return;
    }
    try (var out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
      out.writeUTF(model.modelId());
      out.writeInt(vectors.size());
      for (var e : vectors.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeInt(e.getValue().length);
        for (float f : e.getValue()) {
          out.writeFloat(f);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
