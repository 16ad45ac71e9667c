package dev.yaad.memory.store;

import dev.yaad.memory.Categories;
import dev.yaad.memory.internal.store.Dialect;
import java.util.Objects;

/**
 * How to reach the database. {@code jdbc:h2:...} URLs select the embedded H2 dialect,
 * {@code jdbc:postgresql:...} URLs select PostgreSQL; nothing else is accepted.
 *
 * @param jdbcUrl     where the database is
 * @param username    may be {@code null} (H2, or PostgreSQL trust auth)
 * @param password    may be {@code null}; never logged
 * @param schema      the schema to create and use, or {@code null} for the default
 *                    ({@code public} on PostgreSQL)
 * @param maxPoolSize connections in the pool, at least {@link #MIN_POOL_SIZE}
 * @param categories  the categories the store accepts
 */
public record StoreConfig(
    String jdbcUrl, String username, String password, String schema, int maxPoolSize, Categories categories) {

  public static final String DEFAULT_H2_URL = "jdbc:h2:file:./data/yaad";
  public static final int DEFAULT_POOL_SIZE = 10;
  /**
   * The schema migration at start holds one connection (its lock) while it migrates on
   * another: with one connection it waits for itself until the pool gives up.
   */
  public static final int MIN_POOL_SIZE = 2;

  public StoreConfig {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(categories, "categories");
    if (maxPoolSize < MIN_POOL_SIZE) {
      throw new IllegalArgumentException("maxPoolSize cannot be less than " + MIN_POOL_SIZE + " (was " + maxPoolSize
          + "): the schema migration at start holds one connection while it migrates on another");
    }
    Dialect.of(jdbcUrl); // fails fast on an unsupported URL
  }

  public static StoreConfig of(String jdbcUrl) {
    return new StoreConfig(jdbcUrl, null, null, null, DEFAULT_POOL_SIZE, Categories.DEFAULT);
  }

  public StoreConfig withCredentials(String username, String password) {
    return new StoreConfig(jdbcUrl, username, password, schema, maxPoolSize, categories);
  }

  public StoreConfig withSchema(String schema) {
    return new StoreConfig(jdbcUrl, username, password, schema, maxPoolSize, categories);
  }

  public StoreConfig withPoolSize(int maxPoolSize) {
    return new StoreConfig(jdbcUrl, username, password, schema, maxPoolSize, categories);
  }

  public StoreConfig withCategories(Categories categories) {
    return new StoreConfig(jdbcUrl, username, password, schema, maxPoolSize, categories);
  }

  /** The URL with any password parameter masked, for logs. */
  public String safeUrl() {
    return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1****");
  }

  @Override
  public String toString() {
    return "StoreConfig[url=" + safeUrl() + ", user=" + username + ", schema=" + schema
        + ", maxPoolSize=" + maxPoolSize + ", categories=" + categories + "]";
  }
}
