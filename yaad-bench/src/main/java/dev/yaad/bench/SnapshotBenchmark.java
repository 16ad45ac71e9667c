package dev.yaad.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.yaad.memory.Categories;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memory;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.DatabaseOptions;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The predecessor's eight per-category queries against {@code MemoryStore.snapshot}'s one
 * statement, on the same data, interleaved in one run so that both see the same machine.
 *
 * <p>Every iteration runs both paths once, each for its own random user, alternating which
 * goes first so neither always follows the other onto warm pages. Warm-up iterations run the
 * same way and are discarded. Before measuring, both paths are checked to return the same
 * memories for a few users, so the comparison is like for like.
 */
@Command(
    name = "snapshot",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Measures the one-round-trip user snapshot against one query per category.",
        "Seeds the data on first use (kept in bench_meta and reused), then prints p50/p99/mean of each path"
            + " and their ratio; with --json the last line is one JSON object with every figure."})
final class SnapshotBenchmark implements Callable<Integer> {
  private static final Pattern POSTGRES_URL = Pattern.compile("jdbc:postgresql://([^/:?,]+)(?::(\\d+))?(/.*)?");
  private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  private static final int CHECKED_USERS = 20;

  @Spec CommandSpec spec;

  @Option(names = "--backend", required = true, description = "postgres or h2")
  Backend backend;

  @Mixin DatabaseOptions database;


  @Option(names = "--schema", defaultValue = "yaad_bench",
      description = "PostgreSQL schema for the benchmark data, kept apart from tests (default: ${DEFAULT-VALUE})")
  String schema;

  @Option(names = "--users", defaultValue = "10000", description = "users to seed (default: ${DEFAULT-VALUE})")
  int users;

  @Option(names = "--memories-per-user", defaultValue = "200", description = "memories per user (default: ${DEFAULT-VALUE})")
  int memoriesPerUser;

  @Option(names = "--layout", defaultValue = "time",
      description = "table order of the seeded memories: time (as written over months, a user's rows scattered;"
          + " realistic) or user (each user's rows together, as after CLUSTER; a best case) (default: ${DEFAULT-VALUE})")
  BenchData.Layout layout;

  @Option(names = "--per-category", defaultValue = "5", description = "newest memories per category (default: ${DEFAULT-VALUE})")
  int perCategory;

  @Option(names = "--iterations", defaultValue = "2000", description = "measured iterations, each runs both paths (default: ${DEFAULT-VALUE})")
  int iterations;

  @Option(names = "--warmup", defaultValue = "300", description = "discarded iterations first (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--delay-ms", defaultValue = "0",
      description = "PostgreSQL only: added to every database round trip by a delaying relay (default: ${DEFAULT-VALUE})")
  int delayMs;

  @Option(names = "--naive-statements", defaultValue = "prepared",
      description = "prepared: the naive queries run as server-side prepared statements, planned once (the fair"
          + " baseline); unprepared: parsed and planned on every call, as the Python predecessor ran them"
          + " (PostgreSQL only) (default: ${DEFAULT-VALUE})")
  NaiveStatements naiveStatements;

  enum NaiveStatements {
    PREPARED, UNPREPARED;

    @Override
    public String toString() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  @Option(names = "--json", description = "end the output with one line of JSON holding every figure")
  boolean json;

  @Override
  public Integer call() throws Exception {
    validate();
    PrintWriter out = spec.commandLine().getOut();
    List<String> categories = Categories.DEFAULT.names();
    StoreConfig config = database.storeConfig(backend.defaultUrl, backend == Backend.POSTGRES ? "postgres" : null)
        .withPoolSize(2).withSchema(backend == Backend.POSTGRES ? schema : null);
    String url = config.jdbcUrl();

    boolean seeded;
    long seedStart = System.nanoTime();
    try (JdbcMemoryStore store = JdbcMemoryStore.open(config)) {
      seeded = new BenchData(store.dataSource(), backend, out).ensure(users, memoriesPerUser, layout);
    }
    if (seeded && backend == Backend.H2) {
      BenchData.compactH2(url, out);
    }
    double seedSeconds = (System.nanoTime() - seedStart) / 1e9;

    // Seeding went direct; measuring goes through the relay, if any, for both paths alike.
    DelayingRelay relay = delayMs > 0 ? DelayingRelay.start(postgresAddress(url), Duration.ofMillis(delayMs)) : null;
    StoreConfig measured = relay == null ? config : new StoreConfig(viaRelay(url, relay.port()), config.username(),
        config.password(), config.schema(), config.maxPoolSize(), config.categories());
    Result result;
    try (JdbcMemoryStore store = JdbcMemoryStore.open(measured)) {
      var naive = new PerCategoryQueries(store.dataSource(), naiveStatements == NaiveStatements.PREPARED);
      result = measure(store, naive, categories, relay);
    } finally { // the pool is closed first (try-with-resources), then the relay it talked through
      if (relay != null) {
        relay.close();
      }
    }

    printTable(out, result, categories.size());
    if (json) {
      out.println(new ObjectMapper().writeValueAsString(jsonFigures(result, categories.size(), seeded, seedSeconds)));
    }
    out.flush();
    return 0;
  }

  /** @param naiveTrips, snapshotTrips round trips per call seen at the relay, or NaN without one */
  private record Result(Latencies.Summary naive, Latencies.Summary snapshot, double rowsPerCall,
      double naiveTrips, double snapshotTrips) {}

  private Result measure(JdbcMemoryStore store, PerCategoryQueries naive, List<String> categories, DelayingRelay relay)
      throws SQLException {
    SplittableRandom random = new SplittableRandom(42);
    long naiveChunks = 0;
    long snapshotChunks = 0;
    for (int i = 0; i < CHECKED_USERS; i++) {
      String userId = SyntheticMemories.userId(random.nextInt(users));
      long before = relay == null ? 0 : relay.chunks();
      Map<String, List<Memory>> expected = naive.fetch(userId, categories, perCategory);
      long between = relay == null ? 0 : relay.chunks();
      Map<String, List<Memory>> actual = store.snapshot(userId, categories, perCategory).memories();
      naiveChunks += between - before;
      snapshotChunks += (relay == null ? 0 : relay.chunks()) - between;
      if (!expected.equals(actual)) {
        throw new IllegalStateException("the two paths disagree for user " + userId
            + ": per-category queries returned " + expected + " but the snapshot returned " + actual);
      }
    }

    Latencies naiveTimes = new Latencies(iterations);
    Latencies snapshotTimes = new Latencies(iterations);
    long rows = 0;
    for (int i = -warmup; i < iterations; i++) {
      boolean record = i >= 0;
      String naiveUser = SyntheticMemories.userId(random.nextInt(users));
      String snapshotUser = SyntheticMemories.userId(random.nextInt(users));
      for (int turn = 0; turn < 2; turn++) {
        if ((turn == 0) == ((i & 1) == 0)) {
          long start = System.nanoTime();
          naive.fetch(naiveUser, categories, perCategory);
          long elapsed = System.nanoTime() - start;
          if (record) {
            naiveTimes.record(elapsed);
          }
        } else {
          long start = System.nanoTime();
          Snapshot snapshot = store.snapshot(snapshotUser, categories, perCategory);
          long elapsed = System.nanoTime() - start;
          if (record) {
            snapshotTimes.record(elapsed);
            rows += snapshot.memoryCount();
          }
        }
      }
    }
    double naiveTrips = relay == null ? Double.NaN : (double) naiveChunks / CHECKED_USERS;
    double snapshotTrips = relay == null ? Double.NaN : (double) snapshotChunks / CHECKED_USERS;
    return new Result(naiveTimes.summary(), snapshotTimes.summary(), (double) rows / iterations,
        naiveTrips, snapshotTrips);
  }

  private void printTable(PrintWriter out, Result r, int categoryCount) {
    out.printf("%nsnapshot benchmark: %s, %,d users x %,d memories (%s layout), %d categories x %d newest"
            + " (%.1f rows per call), delay %d ms per round trip, %,d iterations after %,d warm-up%n",
        backend, users, memoriesPerUser, layout, categoryCount, perCategory, r.rowsPerCall(), delayMs, iterations, warmup);
    out.printf("%-34s %9s %9s %9s %9s%n", "path", "p50 ms", "p90 ms", "p99 ms", "mean ms");
    row(out, "naive: " + categoryCount + " queries (" + naiveStatements + ")", r.naive());
    row(out, "snapshot: 1 statement", r.snapshot());
    out.printf("%-34s %8.2fx %8.2fx %8.2fx %8.2fx%n", "ratio naive / snapshot",
        r.naive().p50() / r.snapshot().p50(), r.naive().p90() / r.snapshot().p90(),
        r.naive().p99() / r.snapshot().p99(), r.naive().mean() / r.snapshot().mean());
    if (!Double.isNaN(r.naiveTrips())) {
      out.printf("round trips per call seen at the relay: naive %.1f, snapshot %.1f%n", r.naiveTrips(), r.snapshotTrips());
    }
  }

  private static void row(PrintWriter out, String label, Latencies.Summary s) {
    out.printf("%-34s %9.3f %9.3f %9.3f %9.3f%n", label, s.p50(), s.p90(), s.p99(), s.mean());
  }

  private Map<String, Object> jsonFigures(Result r, int categoryCount, boolean seeded, double seedSeconds) {
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("benchmark", "snapshot");
    figures.put("backend", backend.toString());
    figures.put("users", users);
    figures.put("memoriesPerUser", memoriesPerUser);
    figures.put("layout", layout.toString());
    figures.put("categories", categoryCount);
    figures.put("perCategory", perCategory);
    figures.put("rowsPerCall", round(r.rowsPerCall(), 2));
    figures.put("delayMs", delayMs);
    figures.put("iterations", iterations);
    figures.put("warmup", warmup);
    Map<String, Object> naive = jsonSummary(r.naive(), categoryCount, r.naiveTrips());
    naive.put("statements", naiveStatements.toString());
    figures.put("naive", naive);
    figures.put("snapshot", jsonSummary(r.snapshot(), 1, r.snapshotTrips()));
    figures.put("ratioP50", round(r.naive().p50() / r.snapshot().p50(), 2));
    figures.put("ratioP99", round(r.naive().p99() / r.snapshot().p99(), 2));
    figures.put("ratioMean", round(r.naive().mean() / r.snapshot().mean(), 2));
    figures.put("seeded", seeded);
    figures.put("seedSeconds", round(seedSeconds, 1));
    figures.put("java", Runtime.version().toString());
    figures.put("at", Instant.now().toString());
    return figures;
  }

  private static Map<String, Object> jsonSummary(Latencies.Summary s, int roundTrips, double observedTrips) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("roundTrips", roundTrips);
    if (!Double.isNaN(observedTrips)) {
      m.put("roundTripsSeenAtRelay", round(observedTrips, 2));
    }
    m.put("p50Ms", round(s.p50(), 4));
    m.put("p90Ms", round(s.p90(), 4));
    m.put("p99Ms", round(s.p99(), 4));
    m.put("meanMs", round(s.mean(), 4));
    m.put("minMs", round(s.min(), 4));
    m.put("maxMs", round(s.max(), 4));
    return m;
  }

  private static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }

  private void validate() {
    check(users >= 1, "--users must be at least 1 (was " + users + ")");
    check(memoriesPerUser >= 1, "--memories-per-user must be at least 1 (was " + memoriesPerUser + ")");
    check(perCategory >= 1 && perCategory <= Limits.MAX_PER_CATEGORY,
        "--per-category must be 1 to " + Limits.MAX_PER_CATEGORY + " (was " + perCategory + ")");
    check(iterations >= 1, "--iterations must be at least 1 (was " + iterations + ")");
    check(warmup >= 0, "--warmup cannot be negative (was " + warmup + ")");
    check(delayMs >= 0 && delayMs <= 10_000, "--delay-ms must be 0 to 10000 (was " + delayMs + ")");
    check(delayMs == 0 || backend == Backend.POSTGRES,
        "--delay-ms needs --backend postgres: H2 runs inside this process, there is no round trip to delay");
    check(naiveStatements == NaiveStatements.PREPARED || backend == Backend.POSTGRES,
        "--naive-statements unprepared needs --backend postgres: H2 always plans a statement once");
    check(backend != Backend.POSTGRES || SCHEMA.matcher(schema).matches(),
        "--schema must be a lower-case SQL identifier (was '" + schema + "')");
    if (database.url() != null) {
      String prefix = backend == Backend.POSTGRES ? "jdbc:postgresql:" : "jdbc:h2:";
      check(database.url().startsWith(prefix), "--db-url must start with " + prefix + " for --backend " + backend
          + " (was '" + database.url() + "')");
    }
    if (delayMs > 0) {
      check(POSTGRES_URL.matcher(database.url() != null ? database.url() : backend.defaultUrl).matches(),
          "--delay-ms needs a single-host URL such as jdbc:postgresql://127.0.0.1:5432/test");
    }
  }

  private void check(boolean ok, String message) {
    if (!ok) {
      throw new ParameterException(spec.commandLine(), message);
    }
  }

  private static InetSocketAddress postgresAddress(String url) {
    Matcher m = POSTGRES_URL.matcher(url);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a single-host PostgreSQL URL: " + url);
    }
    return new InetSocketAddress(m.group(1), m.group(2) == null ? 5432 : Integer.parseInt(m.group(2)));
  }

  /** The same URL, pointed at the relay on loopback. */
  static String viaRelay(String url, int relayPort) {
    Matcher m = POSTGRES_URL.matcher(url);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a single-host PostgreSQL URL: " + url);
    }
    return "jdbc:postgresql://127.0.0.1:" + relayPort + (m.group(3) == null ? "/" : m.group(3));
  }
}
