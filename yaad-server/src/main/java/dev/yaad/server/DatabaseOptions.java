package dev.yaad.server;

import dev.yaad.memory.Categories;
import dev.yaad.memory.store.StoreConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The database options every command that opens the store shares ({@code serve},
 * {@code users export|import|delete}, {@code reembed}, and yaad-bench's benchmarks), mixed in
 * with {@code @Mixin} so they are declared once. A command whose default database is not the
 * embedded file (a benchmark's depends on its backend) passes its own to
 * {@link #storeConfig(String, String)}.
 */
public final class DatabaseOptions {
  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--db-url", paramLabel = "JDBC_URL",
      description = {"Database: jdbc:h2:file:... (embedded) or jdbc:postgresql://host:port/db.",
          "Env YAAD_DB_URL. Default: " + StoreConfig.DEFAULT_H2_URL + " (a benchmark: its --backend's own)."})
  String dbUrl;

  @Option(names = "--db-user", paramLabel = "USER", description = "Database user. Env YAAD_DB_USER.")
  String dbUser;

  // No ${DEFAULT-VALUE} here: --help must never print a password taken from the environment.
  @Option(names = "--db-password", paramLabel = "PASSWORD",
      description = "Database password (prefer the env var, flags show in process lists). Env YAAD_DB_PASSWORD.")
  String dbPassword;

  @Option(names = "--db-pool-size", paramLabel = "N", defaultValue = "" + StoreConfig.DEFAULT_POOL_SIZE,
      description = {"Connections in the database pool, at least 2 (see docs/reliability.md for sizing).",
          "Env YAAD_DB_POOL_SIZE. Default: ${DEFAULT-VALUE}."})
  int dbPoolSize = StoreConfig.DEFAULT_POOL_SIZE;

  @Option(names = "--categories", paramLabel = "LIST",
      description = {"Memory categories, comma-separated. Env YAAD_CATEGORIES.",
          "Default: FACT,GOAL,INTEREST,EXPERIENCE,PREFERENCE,PLAN,RELATIONSHIP,OPINION."})
  String categories;

  /** The database URL given (flag or environment), or {@code null}. */
  public String url() {
    return Main.blankToNull(dbUrl);
  }

  /** The database user given, or {@code null}. */
  public String user() {
    return Main.blankToNull(dbUser);
  }

  /** The store configuration the options describe; bad values are usage errors naming the option. */
  StoreConfig storeConfig() {
    return storeConfig(StoreConfig.DEFAULT_H2_URL, null);
  }

  /**
   * As {@link #storeConfig()}, with this command's own defaults for a URL and a user not given.
   *
   * @param defaultUser may be {@code null}
   */
  public StoreConfig storeConfig(String defaultUrl, String defaultUser) {
    String url = Main.blankToNull(dbUrl) != null ? dbUrl : defaultUrl;
    String user = Main.blankToNull(dbUser) != null ? dbUser : defaultUser;
    Categories names;
    try {
      names = categories == null || categories.isBlank() ? Categories.DEFAULT : Categories.parse(categories);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--categories': " + e.getMessage());
    }
    try {
      return StoreConfig.of(url).withCredentials(user, Main.blankToNull(dbPassword)).withCategories(names).withPoolSize(dbPoolSize);
    } catch (IllegalArgumentException e) {
      String option = e.getMessage().startsWith("maxPoolSize") ? "--db-pool-size" : "--db-url";
      throw new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + e.getMessage());
    }
  }
}
