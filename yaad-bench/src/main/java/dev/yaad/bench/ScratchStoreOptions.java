package dev.yaad.bench;

import dev.yaad.memory.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import picocli.CommandLine.Option;

/**
 * Where an agent benchmark keeps its memories: by default a new H2 file in a temporary
 * directory, deleted afterwards; or the database the options name. Mixed into
 * {@code greeting-chaos} and {@code replay}.
 */
final class ScratchStoreOptions {
  @Option(names = "--db-url", description = "store URL (default: a new H2 file in a temporary directory, deleted afterwards)")
  String url;

  @Option(names = "--db-user", description = "database user (PostgreSQL)")
  String user;

  @Option(names = "--schema", description = "schema to create and use (PostgreSQL), e.g. yaad_agent_bench")
  String schema;

  private Path tmp;

  /** @param name prefix of the temporary directory, when one is made */
  StoreConfig storeConfig(String name) throws IOException {
    if (url != null) {
      return StoreConfig.of(url).withCredentials(user, null).withSchema(schema);
    }
    tmp = Files.createTempDirectory(name);
    return StoreConfig.of("jdbc:h2:file:" + tmp.resolve("yaad").toAbsolutePath());
  }

  /** Deletes the temporary directory, if one was made. */
  void cleanUp() {
    if (tmp == null) {
      return;
    }
    try (Stream<Path> paths = Files.walk(tmp)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + tmp + ": " + e.getMessage());
    }
  }
}
