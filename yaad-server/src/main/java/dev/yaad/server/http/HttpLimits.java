package dev.yaad.server.http;

import dev.yaad.server.auth.Access;
import dev.yaad.server.auth.Principal;
import dev.yaad.server.limit.Rate;
import dev.yaad.server.limit.RateLimiter;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Header;
import io.javalin.http.HttpResponseException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * What one client may take from the HTTP side of a server, and the Jetty settings that keep
 * one client from stalling the rest:
 *
 * <ul>
 *   <li><b>Request handling on virtual threads.</b> A handler blocked on a client (a body that
 *       does not arrive) holds a virtual thread, not one of Jetty's platform threads, so a few
 *       hundred stalled requests do not keep {@code /health} waiting.
 *   <li><b>Bodies arrive or the request ends.</b> A request whose body stops for
 *       {@link #bodyIdleTimeout()}, or trickles in slower than {@link #minBodyBytesPerSecond()},
 *       is answered {@code 408 request_timeout} (the JSON error body, no stack trace).
 *   <li><b>Connections per client address</b>, at most {@link #maxConnectionsPerIp()} open at
 *       once (HTTP and WebSocket alike); beyond it a new connection is closed at once.
 *   <li><b>Requests per user and per API key</b>: every route with a {@code {userId}} spends from
 *       that user's {@link #userRequests()} bucket, every request made with an API key from that
 *       key's {@link #keyRequests()} bucket; an empty bucket is {@code 429 rate_limited} with
 *       {@code Retry-After}. Public routes (the page, {@code /health}) spend nothing.
 * </ul>
 *
 * Limits are per server instance. Behind a reverse proxy every connection comes from the
 * proxy's address: raise or turn off the per-address limit there and let the proxy limit
 * per client.
 *
 * @param bodyIdleTimeout       how long reading a request body (or writing a response) may wait for the client
 * @param minBodyBytesPerSecond the slowest a request body may arrive, on average; 0 for no minimum
 * @param maxConnectionsPerIp   open connections from one client address; 0 for no limit
 * @param userRequests          requests on one user's routes, from any caller
 * @param keyRequests           requests made with one API key
 */
public record HttpLimits(Duration bodyIdleTimeout, long minBodyBytesPerSecond, int maxConnectionsPerIp,
    Rate userRequests, Rate keyRequests) {
  public static final Duration DEFAULT_BODY_IDLE_TIMEOUT = Duration.ofSeconds(10);
  public static final long DEFAULT_MIN_BODY_BYTES_PER_SECOND = 1024;
  public static final int DEFAULT_MAX_CONNECTIONS_PER_IP = 256;
  public static final Rate DEFAULT_USER_REQUESTS = Rate.of(300, Duration.ofMinutes(1));
  public static final Rate DEFAULT_KEY_REQUESTS = Rate.of(6000, Duration.ofMinutes(1));
  /** Jetty's platform threads: selectors and acceptors; handlers run on virtual threads beside them. */
  private static final int PLATFORM_THREADS = 32;

  public HttpLimits {
    Objects.requireNonNull(bodyIdleTimeout, "bodyIdleTimeout");
    Objects.requireNonNull(userRequests, "userRequests");
    Objects.requireNonNull(keyRequests, "keyRequests");
    if (bodyIdleTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("bodyIdleTimeout must be at least 1 ms (was " + bodyIdleTimeout + ")");
    }
    if (minBodyBytesPerSecond < 0) {
      throw new IllegalArgumentException("minBodyBytesPerSecond cannot be negative (was " + minBodyBytesPerSecond + ")");
    }
    if (maxConnectionsPerIp < 0) {
      throw new IllegalArgumentException("maxConnectionsPerIp cannot be negative (was " + maxConnectionsPerIp + "); 0 is no limit");
    }
  }

  public static HttpLimits defaults() {
    return new HttpLimits(DEFAULT_BODY_IDLE_TIMEOUT, DEFAULT_MIN_BODY_BYTES_PER_SECOND, DEFAULT_MAX_CONNECTIONS_PER_IP,
        DEFAULT_USER_REQUESTS, DEFAULT_KEY_REQUESTS);
  }

  public HttpLimits withBodyTimeouts(Duration idle, long minBytesPerSecond) {
    return new HttpLimits(idle, minBytesPerSecond, maxConnectionsPerIp, userRequests, keyRequests);
  }

  public HttpLimits withMaxConnectionsPerIp(int max) {
    return new HttpLimits(bodyIdleTimeout, minBodyBytesPerSecond, max, userRequests, keyRequests);
  }

  public HttpLimits withRequestRates(Rate perUser, Rate perKey) {
    return new HttpLimits(bodyIdleTimeout, minBodyBytesPerSecond, maxConnectionsPerIp, perUser, perKey);
  }

  /**
   * Applies these limits to {@code app}: call after its routes and {@link Access} are
   * installed (the request limits run after authentication) and before it starts.
   */
  public void install(Javalin app) {
    var config = app.unsafeConfig();
    QueuedThreadPool threads = new QueuedThreadPool(PLATFORM_THREADS, 4, 60_000);
    threads.setName("yaad-http");
    threads.setVirtualThreadsExecutor(Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("yaad-http-", 0).factory()));
    config.jetty.threadPool = threads;
    config.jetty.modifyHttpConfiguration(http -> {
      // Jetty applies this idle timeout to blocking reads and writes while a request is handled.
      http.setIdleTimeout(bodyIdleTimeout.toMillis());
      http.setMinRequestDataRate(minBodyBytesPerSecond);
    });
    if (maxConnectionsPerIp > 0) {
      config.jetty.modifyServer(server -> server.addBean(new ConnectionsPerIp(maxConnectionsPerIp, server)));
    }
    RateLimiter<String> perUser = new RateLimiter<>(userRequests);
    RateLimiter<String> perKey = new RateLimiter<>(keyRequests);
    if (!userRequests.off() || !keyRequests.off()) {
      app.beforeMatched(ctx -> spend(ctx, perUser, perKey));
    }
  }

  private static void spend(Context ctx, RateLimiter<String> perUser, RateLimiter<String> perKey) {
    Principal principal = ctx.attribute(Access.PRINCIPAL);
    if (principal == null) {
      return; // a public route
    }
    if (principal instanceof Principal.ApiKey key) {
      refuseIfEmpty(ctx, perKey.tryTake(key.id(), 1), "API key " + key.id(), perKey.rate());
    }
    String userId = ctx.pathParamMap().get("userId");
    if (userId != null) {
      refuseIfEmpty(ctx, perUser.tryTake(userId, 1), "user '" + userId + "'", perUser.rate());
    }
  }

  private static void refuseIfEmpty(Context ctx, long waitNanos, String who, Rate rate) {
    if (waitNanos == 0) {
      return;
    }
    long seconds = RateLimiter.retryAfterSeconds(waitNanos);
    ctx.header(Header.RETRY_AFTER, String.valueOf(seconds));
    throw new HttpResponseException(429, "too many requests for " + who + ": the limit is " + rate
        + " requests; retry in " + seconds + " s");
  }
}
