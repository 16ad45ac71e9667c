package dev.yaad.server;

import dev.yaad.memory.Limits;
import dev.yaad.memory.Memories;
import dev.yaad.memory.MemoryException;
import dev.yaad.memory.embed.Embedder;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code yaad reembed}: gives every memory a vector from the configured model. */
@Command(name = "reembed", usageHelpAutoWidth = true, sortOptions = false,
    description = {"Embeds every memory whose stored vector is missing or from another model than the configured one,"
        + " in batches, one summary line per batch. Run it after changing the embedding model; search ignores vectors"
        + " of another model until then. Safe to interrupt and run again.",
        "A running server drops its search state on its next write per user; restart it to pick up all new vectors at once."})
final class ReembedCommand implements Callable<Integer> {
  static final int DEFAULT_BATCH_SIZE = 256;

  @Spec CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Option(names = "--batch-size", defaultValue = "" + DEFAULT_BATCH_SIZE, paramLabel = "N",
      description = "Memories embedded per batch, 1-" + Limits.MAX_BATCH_SIZE + ". Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Mixin DatabaseOptions database;
  @Mixin EmbeddingOptions embedding;

  @Override
  public Integer call() {
    if (batchSize < 1 || batchSize > Limits.MAX_BATCH_SIZE) {
      spec.commandLine().getErr().println("yaad: --batch-size must be 1-" + Limits.MAX_BATCH_SIZE + " (was " + batchSize + ")");
      return 2;
    }
    Embedder embedder = embedding.embedder();
    try (Memories memories = Memories.builder().store(database.storeConfig()).embedder(embedder).build()) {
      Memories.Reembedded result = memories.reembed(batchSize);
      spec.commandLine().getOut().printf("reembedded %d memories of %d users with %s in %d ms (%d changed meanwhile, left for the next run)%n",
          result.updated(), result.users(), embedder.modelId(), result.millis(), result.skipped());
      return 0;
    } catch (MemoryException | IllegalStateException e) {
      spec.commandLine().getErr().println("yaad: " + e.getMessage());
      return 1;
    }
  }
}
