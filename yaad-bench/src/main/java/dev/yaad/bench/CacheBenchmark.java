package dev.yaad.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.internal.cache.CachingMemoryStore;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.internal.store.MemoryStore;
import dev.yaad.memory.internal.store.MemoryWrite;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.server.DatabaseOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The user snapshot from the database, from Redis (L2) and from the process (L1), measured in
 * one run, plus how long a write on one instance takes to show on another sharing the
 * database and Redis.
 *
 * <p>Every iteration reads one random user through each of the three paths, rotating which
 * goes first, so all three see the same machine at the same moment (the build machines are
 * shared and noisy). The L2 path is a cache whose L1 is off, so each of its reads is an L2 hit;
 * the meters of each cache are checked afterwards to prove that every measured read hit the
 * level it claims.
 *
 * <p>The lag phase: instance B holds the user in L1; instance A writes. "Invalidation" is from
 * A's write returning to B's listener hearing of it (0 when B heard before A's caller got the
 * acknowledgement); "visible" adds B's next read, which reloads the user (L2 was invalidated,
 * so from the database) and must return the new memory: the earliest a reader on B sees it.
 */
@Command(
    name = "cache",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Measures the snapshot uncached (database), from Redis (L2) and in process (L1) in one run, with ratios,",
        "and the cross-instance invalidation lag with two instances sharing the database and Redis.",
        "With --json the last line is one JSON object with every figure."})
final class CacheBenchmark implements Callable<Integer> {
  private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  /** Not the snapshot benchmark's file: the lag phase writes (and deletes again), and H2 opens in one process at a time. */
  private static final String DEFAULT_H2_URL = "jdbc:h2:file:./data/bench/yaad-bench-cache";
  private static final long BENCH_L1_MAX_WEIGHT_BYTES = 1L << 30;
  private static final double TARGET_L1_P50_US = 5;
  private static final double TARGET_L2_P50_US = 300;
  private static final double TARGET_DB_OVER_L1 = 50;

  @Spec CommandSpec spec;

  @Option(names = "--backend", required = true, description = "postgres or h2")
  Backend backend;

  @Mixin DatabaseOptions database;


  @Option(names = "--schema", defaultValue = "yaad_bench_cache",
      description = "PostgreSQL schema for the benchmark data, kept apart from tests and other benchmarks (default: ${DEFAULT-VALUE})")
  String schema;

  @Option(names = "--redis-url", defaultValue = "redis://127.0.0.1:6379", description = "Redis for L2 and the bus (default: ${DEFAULT-VALUE})")
  String redisUrl;

  @Option(names = "--users", defaultValue = "10000", description = "users to seed (default: ${DEFAULT-VALUE})")
  int users;

  @Option(names = "--memories-per-user", defaultValue = "200", description = "memories per user (default: ${DEFAULT-VALUE})")
  int memoriesPerUser;

  @Option(names = "--layout", defaultValue = "time",
      description = "table order of the seeded memories: time (realistic) or user (a best case); see the snapshot"
          + " benchmark (default: ${DEFAULT-VALUE})")
  BenchData.Layout layout;

  @Option(names = "--per-category", defaultValue = "5", description = "newest memories per category in a snapshot (default: ${DEFAULT-VALUE})")
  int perCategory;

  @Option(names = "--iterations", defaultValue = "5000", description = "measured iterations, each reads through all three paths (default: ${DEFAULT-VALUE})")
  int iterations;

  @Option(names = "--warmup", defaultValue = "2000", description = "discarded iterations first (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--lag-iterations", defaultValue = "500", description = "cross-instance writes measured (default: ${DEFAULT-VALUE})")
  int lagIterations;

  @Option(names = "--json", description = "end the output with one line of JSON holding every figure")
  boolean json;

  @Override
  public Integer call() throws Exception {
    validate();
    PrintWriter out = spec.commandLine().getOut();
    StoreConfig storeConfig = database.storeConfig(backend == Backend.H2 ? DEFAULT_H2_URL : backend.defaultUrl,
        backend == Backend.POSTGRES ? "postgres" : null).withPoolSize(4).withSchema(backend == Backend.POSTGRES ? schema : null);
    List<String> all = List.of(); // every category, as the agent's snapshot asks
    // A prefix of this run's own: nothing else's keys or invalidations interfere.
    CacheConfig cacheConfig = CacheConfig.defaults().withRedisUrl(redisUrl)
        .withRedisKeyPrefix("yaad:bench:" + UUID.randomUUID().toString().substring(0, 8) + ":")
        .withTtls(CacheConfig.DEFAULT_L1_TTL, CacheConfig.DEFAULT_L1_TTL_WHILE_REDIS_DOWN, Duration.ofMinutes(5))
        // This measures latency, not faults: a starved machine must not flip Redis to down mid-run.
        .withRedisTimeouts(Duration.ofSeconds(1), CacheConfig.DEFAULT_REDIS_CHECK_INTERVAL)
        // Every user is read through L1, so L1 must hold them all: 10,000 users of 40 memories
        // weigh ~270 MB by the cache's estimate (the 64 MiB default holds ~2,500).
        .withL1MaxWeightBytes(BENCH_L1_MAX_WEIGHT_BYTES);

    JdbcMemoryStore database = JdbcMemoryStore.open(storeConfig);
    // Instance B of the lag phase gets a pool of its own on PostgreSQL, as another process would;
    // H2's file lock allows one opener, so there B shares A's.
    MemoryStore databaseB = backend == Backend.POSTGRES ? JdbcMemoryStore.open(storeConfig) : unclosed(database);
    SimpleMeterRegistry l1Meters = new SimpleMeterRegistry();
    SimpleMeterRegistry l2Meters = new SimpleMeterRegistry();
    SimpleMeterRegistry bMeters = new SimpleMeterRegistry();
    try (CachingMemoryStore a = CachingMemoryStore.create(unclosed(database), cacheConfig, l1Meters);
        CachingMemoryStore l2Only = CachingMemoryStore.create(unclosed(database), cacheConfig.withL1MaxWeightBytes(0), l2Meters);
        CachingMemoryStore b = CachingMemoryStore.create(databaseB, cacheConfig, bMeters)) {
      if (!a.redisUp() || !l2Only.redisUp() || !b.redisUp()) {
        throw new ParameterException(spec.commandLine(), "Redis at " + cacheConfig.safeRedisUrl()
            + " is not answering; the cache benchmark needs it (start redis-server or pass --redis-url)");
      }
      long seedStart = System.nanoTime();
      boolean seeded = new BenchData(database.dataSource(), backend, out).ensure(users, memoriesPerUser, layout);
      double seedSeconds = (System.nanoTime() - seedStart) / 1e9;

      // Fill L2 and both L1s, so that every measured read hits the level it measures.
      for (int i = 0; i < users; i++) {
        a.snapshot(userId(i), all, perCategory);
      }
      Thread.sleep(200); // L2 fills are asynchronous
      for (int i = 0; i < users; i++) {
        l2Only.snapshot(userId(i), all, perCategory);
      }
      int rows = a.snapshot(userId(0), all, perCategory).memoryCount();

      double l1HitsBefore = count(l1Meters, "l1", "hit");
      double l2HitsBefore = count(l2Meters, "l2", "hit");
      long[][] samples = readLatencies(database, l2Only, a, all);
      long[] l1BackToBack = backToBack(a, all);
      double l1Hits = count(l1Meters, "l1", "hit") - l1HitsBefore;
      double l2Hits = count(l2Meters, "l2", "hit") - l2HitsBefore;
      if (l1Hits != 2.0 * (warmup + iterations) || l2Hits != warmup + iterations) {
        throw new IllegalStateException("not every measured read hit its level (L1 hits " + l1Hits + " of "
            + 2 * (warmup + iterations) + ", L2 hits " + l2Hits + " of " + (warmup + iterations)
            + "); is Redis evicting (maxmemory), or the heap too small for L1 (-Xmx)?");
      }
      Lag lag = lag(a, b, all);

      Map<String, Object> figures = figures(samples, l1BackToBack, lag, rows, seeded, seedSeconds);
      double downs = 0;
      for (SimpleMeterRegistry meters : List.of(l1Meters, l2Meters, bMeters)) {
        downs += meters.get("yaad.cache.redis.state.changes").tag("to", "down").counter().count();
      }
      figures.put("redisDownEvents", (int) downs); // anything but 0 makes the run suspect
      printTable(out, figures);
      if (json) {
        out.println(new ObjectMapper().writeValueAsString(figures));
      }
      out.flush();
      return 0;
    } finally {
      database.close();
    }
  }

  private void validate() {
    if (backend == Backend.POSTGRES && !SCHEMA.matcher(schema).matches()) {
      throw new ParameterException(spec.commandLine(), "--schema must be a lower-case SQL identifier (was '" + schema + "')");
    }
    positive("--users", users);
    positive("--memories-per-user", memoriesPerUser);
    positive("--iterations", iterations);
    positive("--lag-iterations", lagIterations);
    if (warmup < 0) {
      throw new ParameterException(spec.commandLine(), "--warmup cannot be negative (was " + warmup + ")");
    }
    if (perCategory < 1 || perCategory > Limits.MAX_PER_CATEGORY) {
      throw new ParameterException(spec.commandLine(), "--per-category must be 1 to " + Limits.MAX_PER_CATEGORY + " (was " + perCategory + ")");
    }
  }

  private void positive(String option, int value) {
    if (value < 1) {
      throw new ParameterException(spec.commandLine(), option + " must be at least 1 (was " + value + ")");
    }
  }

  private static String userId(int i) {
    return SyntheticMemories.userId(i);
  }

  /** [0] database, [1] L2, [2] L1: nanoseconds per measured read. */
  private long[][] readLatencies(MemoryStore database, MemoryStore l2, MemoryStore l1, List<String> all) {
    SplittableRandom random = new SplittableRandom(7);
    MemoryStore[] paths = {database, l2, l1};
    long[][] samples = new long[3][iterations];
    long sink = 0;
    for (int i = 0; i < warmup + iterations; i++) {
      for (int k = 0; k < 3; k++) {
        int path = (i + k) % 3;
        String user = userId(random.nextInt(users));
        long start = System.nanoTime();
        Snapshot s = paths[path].snapshot(user, all, perCategory);
        long elapsed = System.nanoTime() - start;
        sink += s.memoryCount();
        if (i >= warmup) {
          samples[path][i - warmup] = elapsed;
        }
      }
    }
    if (sink == 42) {
      System.out.print(""); // keeps the reads from being optimised away
    }
    return samples;
  }

  /**
   * L1 hits back to back, as a lower bound: in the interleaved run each L1 read follows a
   * database or Redis round trip and pays for the CPU caches that round trip left cold.
   */
  private long[] backToBack(MemoryStore l1, List<String> all) {
    SplittableRandom random = new SplittableRandom(9);
    long[] samples = new long[iterations];
    for (int i = 0; i < warmup + iterations; i++) {
      String user = userId(random.nextInt(users));
      long start = System.nanoTime();
      l1.snapshot(user, all, perCategory);
      long elapsed = System.nanoTime() - start;
      if (i >= warmup) {
        samples[i - warmup] = elapsed;
      }
    }
    return samples;
  }

  private static double count(SimpleMeterRegistry registry, String level, String result) {
    return registry.get("yaad.cache.gets").tags("level", level, "result", result).counter().count();
  }

  record Lag(long[] invalidation, long[] visible, int arrivedBeforeAck) {}

  private Lag lag(CachingMemoryStore a, CachingMemoryStore b, List<String> all) {
    AtomicLong heardAt = new AtomicLong();
    AtomicReference<String> heardUser = new AtomicReference<>();
    b.onInvalidate(user -> {
      heardAt.set(System.nanoTime()); // before the user, which the loop below waits for
      heardUser.set(user);
    });
    SplittableRandom random = new SplittableRandom(11);
    long[] invalidation = new long[lagIterations];
    long[] visible = new long[lagIterations];
    int beforeAck = 0;
    List<Memory> written = new ArrayList<>();
    for (int i = 0; i < lagIterations; i++) {
      String user = userId(random.nextInt(users));
      b.snapshot(user, all, perCategory);
      b.snapshot(user, all, perCategory); // in B's L1 now
      heardUser.set(null);
      String content = "lag probe " + i + " " + UUID.randomUUID();
      Memory memory = a.write(user, List.of(new MemoryWrite.Insert(new NewMemory("FACT", content, null, null), null))).getFirst();
      long acked = System.nanoTime();
      written.add(memory);
      // Parked, not spinning: on a small machine a spinning reader would starve the thread
      // that delivers the invalidation. The arrival time is taken by the listener itself.
      while (!user.equals(heardUser.get())) {
        LockSupport.parkNanos(20_000);
        if (System.nanoTime() - acked > Duration.ofSeconds(10).toNanos()) {
          throw new IllegalStateException("instance B did not hear of a write of instance A within 10 s");
        }
      }
      long heard = heardAt.get();
      long readStart = System.nanoTime();
      Snapshot seen = b.snapshot(user, all, perCategory);
      long read = System.nanoTime() - readStart;
      if (!contains(seen, content)) {
        throw new IllegalStateException("instance B heard of A's write but read the old snapshot");
      }
      if (heard <= acked) {
        beforeAck++;
      }
      invalidation[i] = Math.max(0, heard - acked);
      visible[i] = invalidation[i] + read; // a read starting when B heard of it returns the write
    }
    for (Memory m : written) {
      a.delete(m.userId(), m.id()); // the seeded data stays as seeded for the next run
    }
    return new Lag(invalidation, visible, beforeAck);
  }

  private static boolean contains(Snapshot snapshot, String content) {
    for (Memory m : snapshot.memories().getOrDefault("FACT", List.of())) {
      if (m.content().equals(content)) {
        return true;
      }
    }
    return false;
  }

  private Map<String, Object> figures(long[][] samples, long[] l1BackToBack, Lag lag, int rows, boolean seeded, double seedSeconds) {
    Map<String, Object> database = summary(samples[0]);
    Map<String, Object> l2 = summary(samples[1]);
    Map<String, Object> l1 = summary(samples[2]);
    double dbP50 = (double) database.get("p50Us");
    double l2P50 = (double) l2.get("p50Us");
    double l1P50 = (double) l1.get("p50Us");
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("benchmark", "cache");
    f.put("backend", backend.toString());
    f.put("users", users);
    f.put("memoriesPerUser", memoriesPerUser);
    f.put("layout", layout.toString());
    f.put("rowsPerSnapshot", rows);
    f.put("iterations", iterations);
    f.put("warmup", warmup);
    f.put("database", database);
    f.put("l2Hit", l2);
    f.put("l1Hit", l1);
    f.put("l1HitBackToBack", summary(l1BackToBack));
    f.put("databaseOverL1P50", round(dbP50 / l1P50));
    f.put("databaseOverL2P50", round(dbP50 / l2P50));
    f.put("l2OverL1P50", round(l2P50 / l1P50));
    Map<String, Object> invalidation = summary(lag.invalidation());
    invalidation.put("arrivedBeforeAckFraction", round((double) lag.arrivedBeforeAck() / lagIterations));
    f.put("lagIterations", lagIterations);
    f.put("invalidationLag", invalidation);
    f.put("visibleLag", summary(lag.visible()));
    Map<String, Object> targets = new LinkedHashMap<>();
    targets.put("l1HitP50UsMax", TARGET_L1_P50_US);
    targets.put("l2HitP50UsMax", TARGET_L2_P50_US);
    targets.put("databaseOverL1Min", TARGET_DB_OVER_L1);
    targets.put("met", l1P50 <= TARGET_L1_P50_US && l2P50 <= TARGET_L2_P50_US && dbP50 / l1P50 >= TARGET_DB_OVER_L1);
    f.put("targets", targets);
    f.put("seeded", seeded);
    f.put("seedSeconds", round(seedSeconds));
    f.put("java", Runtime.version().toString());
    f.put("at", Instant.now().toString());
    return f;
  }

  private static Map<String, Object> summary(long[] nanos) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("p50Us", micros(percentile(nanos, 50)));
    m.put("p90Us", micros(percentile(nanos, 90)));
    m.put("p99Us", micros(percentile(nanos, 99)));
    return m;
  }

  @SuppressWarnings("unchecked")
  private static double us(Map<String, Object> f, String path, String figure) {
    return (double) ((Map<String, Object>) f.get(path)).get(figure);
  }

  private void printTable(PrintWriter out, Map<String, Object> f) {
    out.printf("snapshot of %s rows, %d users, %s, %d iterations (after %d warm-up), paths interleaved:%n",
        f.get("rowsPerSnapshot"), users, backend, iterations, warmup);
    String row = "  %-22s p50 %10.2f us   p99 %10.2f us   %s%n";
    out.printf(row, "database (uncached)", us(f, "database", "p50Us"), us(f, "database", "p99Us"), "");
    out.printf(row, "L2 hit (Redis)", us(f, "l2Hit", "p50Us"), us(f, "l2Hit", "p99Us"), "(target p50 <= " + (int) TARGET_L2_P50_US + " us)");
    out.printf(row, "L1 hit (in process)", us(f, "l1Hit", "p50Us"), us(f, "l1Hit", "p99Us"), "(target p50 <= " + (int) TARGET_L1_P50_US + " us)");
    out.printf(row, "L1 hit, back to back", us(f, "l1HitBackToBack", "p50Us"), us(f, "l1HitBackToBack", "p99Us"),
        "(not after a round trip: a lower bound)");
    out.printf("  ratios at p50: database/L1 %sx (target >= %dx), database/L2 %sx, L2/L1 %sx%n",
        f.get("databaseOverL1P50"), (int) TARGET_DB_OVER_L1, f.get("databaseOverL2P50"), f.get("l2OverL1P50"));
    out.printf("cross-instance, %d writes on A read on B:%n", lagIterations);
    @SuppressWarnings("unchecked")
    Map<String, Object> invalidation = (Map<String, Object>) f.get("invalidationLag");
    out.printf(row, "invalidation lag", us(f, "invalidationLag", "p50Us"), us(f, "invalidationLag", "p99Us"),
        "(A's write returned -> B heard; " + invalidation.get("arrivedBeforeAckFraction") + " heard before it returned)");
    out.printf(row, "visible lag", us(f, "visibleLag", "p50Us"), us(f, "visibleLag", "p99Us"),
        "(A's write returned -> B's read returns it, reload included)");
    @SuppressWarnings("unchecked")
    Map<String, Object> targets = (Map<String, Object>) f.get("targets");
    out.printf("targets %s%s%n", Boolean.TRUE.equals(targets.get("met")) ? "met" : "NOT met",
        Integer.valueOf(0).equals(f.get("redisDownEvents")) ? "" : "; Redis went down during the run, the figures are suspect");
  }

  /** Nearest rank over a copy. */
  private static long percentile(long[] samples, double p) {
    long[] sorted = Arrays.copyOf(samples, samples.length);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }

  private static double micros(long nanos) {
    return Math.round(nanos / 10.0) / 100.0; // 0.01 us
  }

  private static double round(double value) {
    return Math.round(value * 100.0) / 100.0;
  }

  /** The store with {@code close} doing nothing: several caches wrap one pool, closed once at the end. */
  private static MemoryStore unclosed(MemoryStore store) {
    return (MemoryStore) Proxy.newProxyInstance(MemoryStore.class.getClassLoader(), new Class<?>[] {MemoryStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("close") && method.getParameterCount() == 0) {
            return null;
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
