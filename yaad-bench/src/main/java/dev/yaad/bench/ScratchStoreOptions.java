package dev.yaad.bench;

import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.DatabaseOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Where an agent benchmark keeps its memories: by default a new H2 file in a temporary
 * directory, deleted afterwards; or the database the server's own options name
 * ({@code DatabaseOptions}: {@code --db-url}, {@code --db-user}, ...), plus a schema. Mixed
 * into {@code greeting-chaos} and {@code replay}.
 */
final class ScratchStoreOptions {
  /** --db-url (default here: a new H2 file in a temporary directory, deleted afterwards), --db-user... */
  @Mixin DatabaseOptions database;

  @Option(names = "--schema", description = "schema to create and use (PostgreSQL), e.g. yaad_agent_bench")
  String schema;

  private Path tmp;

  /** @param name prefix of the temporary directory, when one is made */
  StoreConfig storeConfig(String name) throws IOException {
    if (database.url() != null) {
      return database.storeConfig(null, null).withSchema(schema);
    }
    tmp = Files.createTempDirectory(name);
    return database.storeConfig("jdbc:h2:file:" + tmp.resolve("yaad").toAbsolutePath(), null);
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
