package dev.yaad.server;

import dev.yaad.memory.Categories;
import dev.yaad.memory.store.StoreConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The database options every command that opens the store shares ({@code serve},
 * {@code users export|import|delete}), mixed in with {@code @Mixin} so they are declared once.
 */
final class DatabaseOptions {
  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--db-url", defaultValue = StoreConfig.DEFAULT_H2_URL, paramLabel = "JDBC_URL",
      description = {"Database: jdbc:h2:file:... (embedded) or jdbc:postgresql://host:port/db.",
          "Env YAAD_DB_URL. Default: " + StoreConfig.DEFAULT_H2_URL + "."})
  String dbUrl;

  @Option(names = "--db-user", paramLabel = "USER", description = "Database user. Env YAAD_DB_USER.")
  String dbUser;

  // No ${DEFAULT-VALUE} here: --help must never print a password taken from the environment.
  @Option(names = "--db-password", paramLabel = "PASSWORD",
      description = "Database password (prefer the env var, flags show in process lists). Env YAAD_DB_PASSWORD.")
  String dbPassword;

  @Option(names = "--categories", paramLabel = "LIST",
      description = {"Memory categories, comma-separated. Env YAAD_CATEGORIES.",
          "Default: FACT,GOAL,INTEREST,EXPERIENCE,PREFERENCE,PLAN,RELATIONSHIP,OPINION."})
  String categories;

  /** The store configuration the options describe; bad values are usage errors naming the option. */
  StoreConfig storeConfig() {
    Categories names;
    try {
      names = categories == null || categories.isBlank() ? Categories.DEFAULT : Categories.parse(categories);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--categories': " + e.getMessage());
    }
    try {
      return StoreConfig.of(dbUrl).withCredentials(Main.blankToNull(dbUser), Main.blankToNull(dbPassword)).withCategories(names);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--db-url': " + e.getMessage());
    }
  }
}
