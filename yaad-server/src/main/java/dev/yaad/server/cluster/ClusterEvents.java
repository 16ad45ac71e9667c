package dev.yaad.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.memory.Memories;
import dev.yaad.memory.outage.FailureRun;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one server instance tells the others: typed events, delivered to every subscriber of
 * this process at once (on the publishing thread) and, when Redis is configured, to every other
 * instance over a Redis pub/sub channel ({@code <redisKeyPrefix>events}, beside the cache's
 * {@code <redisKeyPrefix>invalidate}).
 *
 * <p><b>Delivery</b>: at most once per process. Every event carries an id, and an id this
 * process has seen (its own events come back from Redis too) is not delivered again. Pub/sub
 * keeps nothing: an instance that is not connected when an event is published never hears of
 * it, so events are for what is also made safe another way (a deleted user's writes are
 * refused by the store's tombstone; a {@code learned} message is a notification).
 *
 * <p><b>Faults</b>: Redis down costs one log line when it goes and one when it is back (a
 * checker reconnects every {@link #CHECK_INTERVAL}); meanwhile events reach this process only.
 * Down is a lost connection, or {@link #FAILURES_BEFORE_DOWN} failed publishes or pings in a
 * row, counted as the cache counts Redis failures ({@link FailureRun}: those in flight together
 * through one stall count once), so that one slow command on a busy machine does not drop the
 * subscription and with it the events that arrive while it is renewed.
 *
 * <p>Thread-safe. Subscribers must be quick and must not throw (a throw is logged).
 */
public final class ClusterEvents implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterEvents.class);
  static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);
  private static final Duration TIMEOUT = Duration.ofSeconds(1);
  /** Failed publishes or pings in a row, each sent after the one before had failed, that mark Redis down (the cache's rule). */
  static final int FAILURES_BEFORE_DOWN = 3;
  /** How many event ids are remembered for de-duplication: far more than arrive in the seconds an echo takes. */
  private static final int SEEN_IDS = 10_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Something that happened on one instance and matters to the others. */
  public sealed interface Event {
    String userId();
  }

  /** A user's deletion is starting: close their sessions and refuse new ones until {@link UserDeleted}. */
  public record UserDeleting(String userId) implements Event {}

  /** A user's deletion is over (committed or failed): sessions of the id are welcome again, as a new user's. */
  public record UserDeleted(String userId) implements Event {}

  /** A {@code learned} message (its JSON, as the session protocol has it) for every open session of the user. */
  public record Learned(String userId, String message) implements Event {}

  private final String channel;
  private final List<Consumer<Event>> subscribers = new CopyOnWriteArrayList<>();
  private final Map<String, Boolean> seen = new LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > SEEN_IDS;
    }
  };
  private final ClientResources resources;
  private final RedisClient client;
  private final String safeUrl;
  private final ScheduledExecutorService checker;
  private volatile StatefulRedisConnection<String, String> commands;
  private volatile StatefulRedisPubSubConnection<String, String> pubsub;
  private volatile boolean up;
  private final FailureRun failures = new FailureRun();
  private final AtomicInteger downs = new AtomicInteger();
  private boolean everUp; // checker thread only
  private volatile boolean closed;
  private final AtomicLong duplicates = new AtomicLong();

  private ClusterEvents(String redisUrl, String safeUrl, String keyPrefix) {
    this.channel = keyPrefix + "events";
    this.safeUrl = safeUrl;
    if (redisUrl == null) {
      resources = null;
      client = null;
      checker = null;
      return;
    }
    resources = DefaultClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1).build();
    RedisURI uri = RedisURI.create(redisUrl);
    uri.setTimeout(TIMEOUT);
    client = RedisClient.create(resources, uri);
    client.setOptions(ClientOptions.builder()
        .autoReconnect(false) // the checker reconnects: one log line per outage, not one per attempt
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .timeoutOptions(TimeoutOptions.enabled(TIMEOUT))
        .socketOptions(SocketOptions.builder().connectTimeout(TIMEOUT).build())
        .build());
    client.addListener(new RedisConnectionStateListener() {
      @Override
      public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
        if (connection == commands || connection == pubsub) {
          down("connection lost");
        }
      }
    });
    checker = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("yaad-cluster-events").factory());
    checker.scheduleWithFixedDelay(this::check, 0, CHECK_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Events within this process only: one instance, or no Redis. */
  public static ClusterEvents local() {
    return new ClusterEvents(null, null, "");
  }

  /**
   * Events shared over Redis with every instance using the same URL and key prefix. Returns at
   * once; connects (and reconnects) in the background.
   *
   * @param safeUrl the URL without its password, for logs
   */
  public static ClusterEvents redis(String redisUrl, String safeUrl, String keyPrefix) {
    return new ClusterEvents(Objects.requireNonNull(redisUrl, "redisUrl"), safeUrl, Objects.requireNonNull(keyPrefix, "keyPrefix"));
  }

  /** Adds a subscriber; it hears every event from now on, this process's own included. */
  public void subscribe(Consumer<Event> subscriber) {
    subscribers.add(Objects.requireNonNull(subscriber, "subscriber"));
  }

  /**
   * Events received again and not delivered: this process's own, back from Redis. Exported as
   * {@code yaad.cluster.events.duplicates}.
   */
  public long duplicatesDropped() {
    return duplicates.get();
  }

  /** Whether events now reach the other instances (always false without Redis). */
  public boolean connected() {
    return up;
  }

  /**
   * Asks Redis for an answer on this bus's own connection, within its timeout (1 s):
   * for readiness, which must not mistake the cache's 100 ms judgement on a starved CPU for
   * an unreachable Redis. Returns at once without Redis.
   *
   * @throws IllegalStateException if not connected now (the checker reconnects within a second)
   * @throws RuntimeException      Lettuce's, if Redis does not answer in time
   */
  public void ping() {
    if (client == null) {
      return;
    }
    StatefulRedisConnection<String, String> c = commands;
    if (c == null) {
      throw new IllegalStateException("not connected to Redis at " + safeUrl);
    }
    c.sync().ping();
  }

  /**
   * Delivers the event to this process's subscribers now, then sends it to the other
   * instances without waiting (if Redis is down, they miss it).
   */
  public void publish(Event event) {
    publish(event, false);
  }

  /** @param wait whether to wait (at most a second) until Redis has it, as a command about to exit must */
  private void publish(Event event, boolean wait) {
    String id = UUID.randomUUID().toString();
    deliver(id, event);
    StatefulRedisConnection<String, String> c = commands;
    if (c == null || !up) {
      return;
    }
    long sent = System.nanoTime();
    try {
      if (wait) {
        c.sync().publish(channel, encode(id, event));
        failures.reset();
      } else {
        c.async().publish(channel, encode(id, event)).whenComplete((n, error) -> {
          if (error == null) {
            failures.reset();
          } else {
            failed(error, sent);
          }
        });
      }
    } catch (RuntimeException e) {
      failed(e, sent);
    }
  }

  /**
   * Deletes the user ({@link Memories#deleteUser}) with every instance told: {@link
   * UserDeleting} before (their sessions close, new ones are refused), {@link UserDeleted}
   * after, however the deletion ended.
   *
   * @throws dev.yaad.memory.NotFoundException if nothing was stored for the user (sessions are closed all the same)
   */
  public void deleteUser(Memories memories, String userId) {
    publish(new UserDeleting(userId), true); // out before the transaction starts
    try {
      memories.deleteUser(userId);
    } finally {
      publish(new UserDeleted(userId), true);
    }
  }

  /** Waits until events reach the other instances, at most {@code timeout}; false without Redis. */
  public boolean awaitConnected(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!up && client != null && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return up;
  }

  @Override
  public void close() {
    closed = true;
    up = false;
    if (client == null) {
      return;
    }
    checker.shutdownNow();
    // Not disconnect(): its closes are asynchronous, and the client's shutdown would close the
    // connections a second time while they are in flight (Lettuce warns "Connection is already
    // closed", once for each). The shutdown closes every connection of the client, once.
    pubsub = null;
    commands = null;
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------- delivery

  private void deliver(String id, Event event) {
    synchronized (seen) {
      if (seen.put(id, Boolean.TRUE) != null) {
        duplicates.incrementAndGet();
        return;
      }
    }
    for (Consumer<Event> s : subscribers) {
      try {
        s.accept(event);
      } catch (RuntimeException e) {
        log.warn("cluster: a subscriber failed on {}: {}", event.getClass().getSimpleName(), e.toString());
      }
    }
  }

  static String encode(String id, Event event) {
    ObjectNode node = JSON.createObjectNode().put("id", id).put("userId", event.userId());
    switch (event) {
      case UserDeleting d -> node.put("type", "user_deleting");
      case UserDeleted d -> node.put("type", "user_deleted");
      case Learned l -> node.put("type", "learned").put("message", l.message());
    }
    return node.toString();
  }

  private void received(String text) {
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (Exception e) {
      log.debug("cluster: not an event: {}", e.toString());
      return;
    }
    String id = node.path("id").asText("");
    String userId = node.path("userId").asText("");
    if (id.isEmpty() || userId.isEmpty()) {
      return;
    }
    Event event = switch (node.path("type").asText("")) {
      case "user_deleting" -> new UserDeleting(userId);
      case "user_deleted" -> new UserDeleted(userId);
      case "learned" -> new Learned(userId, node.path("message").asText(""));
      default -> null; // a newer instance's event this one does not know
    };
    if (event != null) {
      deliver(id, event);
    }
  }

  // ---------------------------------------------------------------- connection (checker thread)

  private void check() {
    if (closed) {
      return;
    }
    long sent = System.nanoTime();
    try {
      if (up) {
        commands.sync().ping();
        pubsub.sync().ping();
        failures.reset();
        return;
      }
      disconnect();
      StatefulRedisConnection<String, String> c = client.connect();
      StatefulRedisPubSubConnection<String, String> p = client.connectPubSub();
      commands = c;
      pubsub = p;
      p.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String ch, String message) {
          if (channel.equals(ch)) {
            received(message);
          }
        }
      });
      p.sync().subscribe(channel);
      up = true;
      log.info("cluster: events {} on redis at {} (channel {})", everUp ? "back" : "shared", safeUrl, channel);
      everUp = true;
    } catch (RuntimeException e) {
      if (up) {
        failed(e, sent);
      } else if (!everUp && !closed) {
        everUp = true; // the first failure is the one logged; later attempts are quiet
        log.warn("cluster: redis at {} is not reachable ({}); events reach this instance only until it is", safeUrl, e.toString());
      }
    }
  }

  /** @param sent when the failed publish or ping was sent ({@link System#nanoTime()}) */
  private void failed(Throwable e, long sent) {
    int inARow = failures.count(sent);
    if (inARow >= FAILURES_BEFORE_DOWN) {
      down(e + ", " + inARow + " failures in a row");
    }
  }

  private void down(String reason) {
    if (up && !closed) {
      up = false;
      failures.reset();
      downs.incrementAndGet();
      log.warn("cluster: redis at {} is down ({}); events reach this instance only, reconnecting every {} ms", safeUrl,
          reason, CHECK_INTERVAL.toMillis());
    }
  }

  /** How many times Redis was marked down since start. */
  int timesDown() {
    return downs.get();
  }

  private void disconnect() {
    StatefulRedisPubSubConnection<String, String> p = pubsub;
    StatefulRedisConnection<String, String> c = commands;
    pubsub = null;
    commands = null;
    if (p != null) {
      p.closeAsync();
    }
    if (c != null) {
      c.closeAsync();
    }
  }
}
