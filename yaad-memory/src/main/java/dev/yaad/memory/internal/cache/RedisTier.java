package dev.yaad.memory.internal.cache;

import dev.yaad.memory.cache.CacheConfig;
import dev.yaad.memory.outage.FailureRun;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * L2 and the invalidation bus on one Redis: a hash per user, {@code <prefix>{<userId>}},
 * holding a generation field {@code g} and one field per cached value, plus a pub/sub channel
 * {@code <prefix>invalidate} carrying {@code "<instance> <userId>"} (or {@code "<instance> *"}).
 *
 * <p>Consistency: a reader fetches the generation together with the value (one HMGET); on a
 * miss it loads the database and fills with a script that writes only if the generation is
 * still the one it read. An invalidation is one script that advances the generation (to Redis
 * {@code TIME} in microseconds, or +1, so it never returns to an earlier value even after the
 * hash expired), deletes every value and publishes, atomically. So a fill that read the
 * database before a write committed can never land after that write's invalidation.
 *
 * <p>Faults: every command is bounded by {@code redisTimeout}; {@link #FAILURES_BEFORE_DOWN}
 * failures in a row (or a lost connection) mark Redis down (one log line), so that one slow
 * command on a busy machine neither marks it down nor clears L1. A failure counts only if its
 * command was sent after the last counted one had failed: the commands that were in flight
 * together through one stall (a starved CPU, a short pause of Redis) fail together, and are one
 * piece of evidence, not many; a hung Redis fails one command after another and is marked down
 * after about {@link #FAILURES_BEFORE_DOWN} timeouts. Once down, nothing waits on Redis: reads skip L2, and invalidations are
 * remembered per user. A checker thread pings while up (a hung server keeps its sockets
 * open) and, while down, reconnects and resubscribes (Lettuce's own reconnection is off, so
 * an outage logs one line, not one per attempt), replays the remembered invalidations, has L1
 * cleared (invalidations from other processes were missed) and only then marks Redis up (one
 * log line). Commands that timed out may still run later; that is harmless, since fills are
 * conditional on the generation and invalidations are idempotent.
 */
final class RedisTier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisTier.class);
  static final String GENERATION_FIELD = "g";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  /**
   * Failed commands or pings in a row, each sent after the one before had failed, that mark Redis
   * down; a success in between starts the count again.
   */
  static final int FAILURES_BEFORE_DOWN = 3;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(2);

  // KEYS[1] user hash; ARGV: ttl ms, channel, message
  private static final String INVALIDATE = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
      local g = tonumber(redis.call('HGET', KEYS[1], 'g') or '0') or 0
      if now > g then g = now else g = g + 1 end
      redis.call('DEL', KEYS[1])
      redis.call('HSET', KEYS[1], 'g', string.format('%.0f', g))
      redis.call('PEXPIRE', KEYS[1], ARGV[1])
      redis.call('PUBLISH', ARGV[2], ARGV[3])
      return 1
      """;
  // KEYS[1] user hash; ARGV: expected generation ('' for none), ttl ms, field, value, field, value...
  private static final String FILL = """
      if (redis.call('HGET', KEYS[1], 'g') or '') ~= ARGV[1] then return 0 end
      for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      return 1
      """;

  /** What the cache does when something happens on the Redis side. */
  interface Events {
    void remoteInvalidate(String userId);

    void remoteInvalidateAll();

    /** Redis went down: invalidations from other processes can no longer arrive. */
    void redisDown();

    /** Redis is about to be marked up: invalidations from other processes were missed. */
    void redisUp();
  }

  /** @param generation the user's generation, {@code ""} if none; @param value {@code null} on a miss */
  record Lookup(String generation, String value) {}

  private final CacheConfig config;
  private final Events events;
  private final CacheMetrics metrics;
  private final String instanceId = UUID.randomUUID().toString().substring(0, 8);
  private final String channel;
  private final String ttlMillis;
  private final ClientResources resources;
  private final RedisClient client;
  private final ScheduledExecutorService checker;
  private final AtomicInteger fillsInFlight = new AtomicInteger();
  /** The run of failures: how many counted, and when the last counted one was seen; guarded by itself. */
  private final FailureRun failures = new FailureRun();

  private volatile StatefulRedisConnection<String, String> commands;
  private volatile StatefulRedisPubSubConnection<String, String> pubsub;
  private volatile boolean up;
  private volatile boolean subscribed;
  private volatile boolean connectionLost;
  private volatile boolean closed;
  private volatile String lastError = "not connected yet";

  private final Object lock = new Object();
  /** Users whose invalidation Redis has not seen; guarded by {@link #lock}. */
  private final Set<String> pending = new LinkedHashSet<>();
  /** More than {@code maxPendingInvalidations} were missed: drop everything on reconnect. */
  private boolean pendingOverflow;
  private long downSince = System.nanoTime();
  /** Checker thread only: whether Redis was ever up, and whether the start-up check is over. */
  private boolean everUp;
  private boolean startupChecked;

  RedisTier(CacheConfig config, Events events, CacheMetrics metrics) {
    this.config = config;
    this.events = events;
    this.metrics = metrics;
    this.channel = config.redisKeyPrefix() + "invalidate";
    this.ttlMillis = Long.toString(config.l2Ttl().toMillis());
    this.resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
    RedisURI uri = RedisURI.create(config.redisUrl());
    // The URI timeout bounds the connection handshake, which is slow on a cold JVM (class
    // loading); commands are bounded by redisTimeout through the TimeoutOptions below.
    uri.setTimeout(max(config.redisTimeout(), CONNECT_TIMEOUT));
    this.client = RedisClient.create(resources, uri);
    client.setOptions(ClientOptions.builder()
        // The checker reconnects (and resubscribes), so that an outage costs one log line, not
        // Lettuce's line per reconnect attempt, and so that up/down has one owner.
        .autoReconnect(false)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS) // fail fast, never queue
        .timeoutOptions(TimeoutOptions.enabled(config.redisTimeout()))
        .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).build())
        .build());
    client.addListener(new RedisConnectionStateListener() {
      @Override
      public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
        if (connection == pubsub || connection == commands) {
          connectionLost = true;
          subscribed = false;
          markDown("connection lost");
        }
      }
    });
    metrics.gauge("yaad.cache.redis.up", () -> up ? 1 : 0);
    metrics.gauge("yaad.cache.redis.pending", () -> {
      synchronized (lock) {
        return pending.size();
      }
    });
    this.checker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "yaad-cache-redis");
      t.setDaemon(true);
      return t;
    });
    // The first connection is made here, so that a healthy Redis serves the very first request;
    // on the checker thread, like every later check, so that checks never overlap.
    try {
      checker.submit(this::check).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      lastError = describe(e.getCause());
    }
    checker.execute(() -> startupChecked = true);
    if (up) {
      log.info("cache: redis at {} is up (L2 + invalidation bus on channel {})", config.safeRedisUrl(), channel);
    } else {
      log.warn("cache: redis at {} is not reachable at start ({}); serving from L1 and the database, retrying every {} ms",
          config.safeRedisUrl(), lastError, config.redisCheckInterval().toMillis());
    }
    long interval = config.redisCheckInterval().toMillis();
    checker.scheduleWithFixedDelay(this::check, interval, interval, TimeUnit.MILLISECONDS);
  }

  boolean up() {
    return up;
  }

  /** The user's generation and value, or {@code null} when Redis is down (nothing is waited for). */
  Lookup get(String userId, String field) {
    if (!up) {
      return null;
    }
    long sent = System.nanoTime();
    try {
      List<KeyValue<String, String>> values = commands.sync().hmget(key(userId), GENERATION_FIELD, field);
      failures.reset();
      return new Lookup(values.get(0).getValueOrElse(""), values.get(1).getValueOrElse(null));
    } catch (RuntimeException e) {
      failed(e, sent);
      return null;
    }
  }

  /**
   * Stores values unless the user was invalidated since {@code generation} was read; does not
   * wait for Redis.
   *
   * @param fieldsAndValues field, value, field, value...
   */
  void fill(String userId, String generation, String... fieldsAndValues) {
    if (!up) {
      return;
    }
    String[] args = new String[2 + fieldsAndValues.length];
    args[0] = generation;
    args[1] = ttlMillis;
    System.arraycopy(fieldsAndValues, 0, args, 2, fieldsAndValues.length);
    fillsInFlight.incrementAndGet();
    long sent = System.nanoTime();
    try {
      commands.async().<Long>eval(FILL, ScriptOutputType.INTEGER, new String[] {key(userId)}, args)
          .whenComplete((stored, error) -> {
            if (error != null) {
              metrics.fillFailed.increment();
              failed(error, sent);
            } else if (stored == 1L) {
              failures.reset();
              metrics.fillStored.increment();
            } else {
              failures.reset();
              metrics.fillStale.increment();
            }
            fillsInFlight.decrementAndGet();
          });
    } catch (RuntimeException e) {
      fillsInFlight.decrementAndGet();
      metrics.fillFailed.increment();
      failed(e, sent);
    }
  }

  /**
   * Drops the user's L2 values and tells the other processes, waiting at most
   * {@code redisTimeout}; if Redis is down the invalidation is remembered and replayed before
   * Redis is used again.
   *
   * <p>It goes out even if the caller's thread is interrupted (a session closed in the middle of
   * a saveMemory, a stopping learner): the write it follows has committed. The interrupt is set
   * aside while it is sent and set again after; it is not a Redis failure.
   */
  void invalidate(String userId) {
    boolean interrupted = Thread.interrupted();
    try {
      interrupted |= invalidateOrRemember(userId);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** @return whether the thread was interrupted while it waited (the interrupt is cleared, for the caller to set again) */
  private boolean invalidateOrRemember(String userId) {
    int attempts = 0;
    int interrupts = 0;
    while (true) {
      if (up) {
        long sent = System.nanoTime();
        try {
          invalidateNow(userId);
          failures.reset();
          return interrupts > 0;
        } catch (RedisCommandInterruptedException e) {
          Thread.interrupted(); // Lettuce set it again
          if (++interrupts >= FAILURES_BEFORE_DOWN) {
            markDown("an invalidation interrupted " + interrupts + " times"); // then remembered, below
          }
        } catch (RuntimeException e) {
          failed(e, sent);
          if (++attempts >= FAILURES_BEFORE_DOWN) {
            markDown(lastError); // an invalidation that cannot go out must be remembered, whatever else succeeds
          }
        }
      }
      synchronized (lock) {
        if (!up) {
          remember(userId);
          return interrupts > 0;
        }
      }
      // Still up: a single failure does not mark Redis down, so try again (a run of failures
      // does, and then it is remembered); or Redis came back between the two checks: the
      // recovery has already replayed what it knew of, so this invalidation must go out now.
    }
  }

  /** Waits until no fill is in flight; for tests. */
  boolean awaitFills(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (fillsInFlight.get() > 0) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(1);
    }
    return true;
  }

  @Override
  public void close() {
    closed = true;
    up = false;
    checker.shutdownNow();
    try {
      if (pubsub != null) {
        pubsub.close();
      }
      if (commands != null) {
        commands.close();
      }
    } finally {
      client.shutdown(Duration.ZERO, SHUTDOWN_TIMEOUT);
      resources.shutdown(0, SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private String key(String userId) {
    return config.redisKeyPrefix() + "{" + userId + "}";
  }

  private void invalidateNow(String userId) {
    commands.sync().eval(INVALIDATE, ScriptOutputType.INTEGER, new String[] {key(userId)},
        ttlMillis, channel, instanceId + " " + userId);
  }

  private void remember(String userId) {
    if (pendingOverflow) {
      return;
    }
    if (pending.size() >= config.maxPendingInvalidations()) {
      pending.clear();
      pendingOverflow = true;
    } else {
      pending.add(userId);
    }
  }

  /** @param sent when the failed command was sent ({@link System#nanoTime()}) */
  private void failed(Throwable e, long sent) {
    metrics.redisErrors.increment();
    lastError = describe(e);
    int inARow = failures.count(sent);
    if (inARow == 0) {
      log.debug("cache: redis command failed, sent before the last counted failure (the same stall): {}", lastError);
    } else if (inARow >= FAILURES_BEFORE_DOWN) {
      markDown(lastError + (inARow > 1 ? ", " + inARow + " failures in a row" : ""));
    } else {
      log.debug("cache: redis command failed ({} in a row; down at {}): {}", inARow, FAILURES_BEFORE_DOWN, lastError);
    }
  }

  private void markDown(String reason) {
    synchronized (lock) {
      if (!up || closed) {
        return;
      }
      up = false;
      failures.reset();
      downSince = System.nanoTime();
    }
    metrics.redisDown.increment();
    log.warn("cache: redis at {} is down ({}); serving from L1 (entries live {} ms) and the database, retrying every {} ms",
        config.safeRedisUrl(), reason, config.l1TtlWhileRedisDown().toMillis(), config.redisCheckInterval().toMillis());
    events.redisDown();
  }

  /** Runs on the checker thread only. */
  private void check() {
    if (closed) {
      return;
    }
    long sent = System.nanoTime();
    try {
      if (up) {
        // A hung server keeps its sockets open: only an answer proves it is alive.
        commands.sync().ping();
        pubsub.sync().ping();
        failures.reset();
        if (!subscribed) {
          markDown("unsubscribed from " + channel);
        }
      } else {
        recover();
      }
    } catch (RuntimeException e) {
      if (up) {
        failed(e, sent);
      } else {
        lastError = describe(e);
        log.debug("cache: redis still down: {}", lastError);
      }
    }
  }

  private void recover() {
    if (commands == null || connectionLost || !subscribed) {
      disconnect();
      connect();
    }
    commands.sync().ping();
    pubsub.sync().ping();
    int replayed = 0;
    boolean droppedAll = false;
    while (true) {
      List<String> batch;
      boolean dropAll;
      synchronized (lock) {
        if (pending.isEmpty() && !pendingOverflow) {
          // Everything this process wrote while down is invalidated in L2; what other processes
          // wrote while we could not hear them may sit in L1, so L1 goes before Redis is used.
          events.redisUp();
          up = true;
          break;
        }
        batch = new ArrayList<>(pending);
        pending.clear();
        dropAll = pendingOverflow;
        pendingOverflow = false;
      }
      try {
        if (dropAll) {
          dropAll();
          droppedAll = true;
        }
        for (int i = 0; i < batch.size(); i++) {
          invalidateNow(batch.get(i));
          replayed++;
        }
      } catch (RuntimeException e) {
        synchronized (lock) {
          if (dropAll) {
            pendingOverflow = true;
          }
          for (String userId : batch.subList(replayed, batch.size())) {
            remember(userId);
          }
        }
        throw e;
      }
    }
    if (everUp) {
      metrics.redisUp.increment();
      log.info("cache: redis at {} is up again after {} ms ({} invalidations replayed{}; L1 cleared)", config.safeRedisUrl(),
          (System.nanoTime() - downSince) / 1_000_000, replayed, droppedAll ? ", every L2 entry dropped after too many" : "");
    } else if (startupChecked) {
      metrics.redisUp.increment();
      log.info("cache: redis at {} is up after being unreachable at start ({} invalidations replayed{})", config.safeRedisUrl(),
          replayed, droppedAll ? ", every L2 entry dropped after too many" : "");
    }
    everUp = true;
  }

  private void disconnect() {
    StatefulRedisPubSubConnection<String, String> p = pubsub;
    StatefulRedisConnection<String, String> c = commands;
    commands = null; // first, so that their closing is not taken for a new failure
    pubsub = null;
    subscribed = false;
    if (p != null) {
      p.closeAsync();
    }
    if (c != null) {
      c.closeAsync();
    }
  }

  private void connect() {
    connectionLost = false;
    StatefulRedisConnection<String, String> c = null;
    StatefulRedisPubSubConnection<String, String> p = null;
    try {
      c = client.connect();
      p = client.connectPubSub();
      p.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void subscribed(String ch, long count) {
          if (channel.equals(ch)) {
            subscribed = true;
          }
        }

        @Override
        public void unsubscribed(String ch, long count) {
          if (channel.equals(ch)) {
            subscribed = false;
          }
        }

        @Override
        public void message(String ch, String message) {
          if (channel.equals(ch)) {
            received(message);
          }
        }
      });
      commands = c;
      pubsub = p;
      p.sync().subscribe(channel);
      subscribed = true; // confirmed by the reply; the listener may hear of it only later
    } catch (RuntimeException e) {
      commands = null;
      pubsub = null;
      subscribed = false;
      if (p != null) {
        p.closeAsync();
      }
      if (c != null) {
        c.closeAsync();
      }
      throw e;
    }
  }

  private void received(String message) {
    int space = message.indexOf(' ');
    if (space < 0 || message.regionMatches(0, instanceId, 0, space) && space == instanceId.length()) {
      return; // malformed, or our own: applied locally before it was published
    }
    String userId = message.substring(space + 1);
    if (userId.equals("*")) {
      events.remoteInvalidateAll();
    } else {
      events.remoteInvalidate(userId);
    }
  }

  /** Deletes every user's hash under the prefix and tells every process to clear L1. */
  private void dropAll() {
    ScanArgs match = ScanArgs.Builder.matches(config.redisKeyPrefix() + "{*").limit(500);
    ScanCursor cursor = ScanCursor.INITIAL;
    do {
      KeyScanCursor<String> page = commands.sync().scan(cursor, match);
      if (!page.getKeys().isEmpty()) {
        commands.sync().unlink(page.getKeys().toArray(String[]::new));
      }
      cursor = page;
    } while (!cursor.isFinished());
    commands.sync().publish(channel, instanceId + " *");
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root && root.getMessage() == null) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }
}
