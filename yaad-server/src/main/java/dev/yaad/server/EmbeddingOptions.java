package dev.yaad.server;

import dev.yaad.memory.embed.Embedder;
import dev.yaad.memory.embed.OnnxEmbedder;
import dev.yaad.memory.embed.OpenAiEmbedder;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Which embedding model turns memories into vectors, shared by every command that writes
 * memories ({@code serve}, {@code users import}, {@code reembed}, and yaad-bench's). Default:
 * the in-process ONNX bge-small-en-v1.5-q, or another in-process model named by
 * {@code --embeddings-model}; with a base URL, any OpenAI-compatible {@code /v1/embeddings}.
 */
public final class EmbeddingOptions {
  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--embeddings-base-url", paramLabel = "URL",
      description = {"An OpenAI-compatible embeddings endpoint, e.g. https://api.openai.com/v1 or http://localhost:11434/v1.",
          "Env YAAD_EMBEDDINGS_BASE_URL. Default: the in-process model " + OnnxEmbedder.DEFAULT_MODEL_ID + "."})
  String baseUrl;

  @Option(names = "--embeddings-model", paramLabel = "MODEL",
      description = {"The model to ask that endpoint for, e.g. text-embedding-3-small; without an endpoint, the in-process model: "
          + OnnxEmbedder.BGE_MODEL_ID + " (default), " + OnnxEmbedder.MINILM_MODEL_ID + " (the default before it) or "
          + OnnxEmbedder.E5_MODEL_ID + " (twice the time per query)."
          + " After changing it, run 'yaad reembed'. Env YAAD_EMBEDDINGS_MODEL."})
  String model;

  @Option(names = "--embeddings-api-key", paramLabel = "KEY", description = "Key for that endpoint. Env YAAD_EMBEDDINGS_API_KEY.")
  String apiKey;

  /** The embedder the options describe; bad values are usage errors naming the option. */
  public Embedder embedder() {
    if (Main.blankToNull(baseUrl) == null) {
      if (Main.blankToNull(model) == null) {
        return OnnxEmbedder.shared();
      }
      try {
        return OnnxEmbedder.named(model.strip());
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--embeddings-model': " + e.getMessage()
            + " in-process; a model of an endpoint needs --embeddings-base-url (YAAD_EMBEDDINGS_BASE_URL)");
      }
    }
    if (Main.blankToNull(model) == null) {
      throw new ParameterException(spec.commandLine(), "--embeddings-base-url needs --embeddings-model (YAAD_EMBEDDINGS_MODEL)");
    }
    try {
      return OpenAiEmbedder.builder().baseUrl(baseUrl).model(model).apiKey(Main.blankToNull(apiKey)).build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--embeddings-base-url': " + e.getMessage());
    }
  }
}
