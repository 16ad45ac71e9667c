package dev.yaad.server.http;

import dev.yaad.agent.AgentRuntime;
import dev.yaad.agent.learning.Learned;
import dev.yaad.server.auth.Access;
import dev.yaad.server.auth.Authenticator;
import dev.yaad.server.cluster.ClusterEvents;
import dev.yaad.server.limit.Rate;
import dev.yaad.server.limit.RateLimiter;
import dev.yaad.voice.Voice;
import io.javalin.Javalin;
import io.javalin.http.BadRequestResponse;
import io.javalin.http.Context;
import io.javalin.websocket.WsContext;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket session endpoint, {@code /api/v1/sessions}: one connection is one agent
 * {@link dev.yaad.agent.Session}, speaking the JSON protocol of {@code docs/api.md}
 * ("Sessions (WebSocket)").
 *
 * <p>The user comes only from the upgrade request's credentials ({@link Access#sessionUser});
 * nothing a client sends later can change it. Every connection writes through its own queue,
 * bounded in bytes, and one writer, so the agent's threads never wait for a slow client; a
 * client that does not keep up is closed with {@code 1013}. A heartbeat pings every connection
 * and closes the ones from which nothing has arrived for {@link Settings#idleTimeout()} with
 * {@code 1001}. What one client may cost is bounded: sessions per user, messages and bytes per
 * session, and model answers per user ({@link Settings}).
 * What background learning stores for a user, and what a memory tool changes during one of
 * the user's turns, reaches every open session of that user as {@code learned} messages, on
 * every instance ({@link ClusterEvents}), each message once.
 *
 * <p>When a user is being deleted (on any instance), their sessions get an {@code error}
 * {@code user_deleted}, are closed through their state machine and then with close code
 * {@value #CLOSE_USER_DELETED}; new connections for the id are refused with that code until the
 * deletion is over (at most {@link #DELETION_GRACE} if its end is never heard of).
 *
 * {@snippet :
 * SessionApi sessions = new SessionApi(runtime, authenticator, SessionApi.Settings.defaults());
 * HttpApp.Setup setup = new HttpApp.Setup(memories, maxBody, authenticator, metrics, readiness, true, sessions::install);
 * // on shutdown, before the runtime closes:
 * sessions.close();  // every connection: closed 1001, its session closed through its state machine
 * }
 */
public final class SessionApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SessionApi.class);
  public static final String PATH = "/api/v1/sessions";
  /** The close code of a session whose user was deleted (application range; like HTTP's 410 Gone). */
  public static final int CLOSE_USER_DELETED = 4410;
  /** How long a deletion refuses new sessions of its user if its end is never heard of (an instance died mid-way). */
  static final Duration DELETION_GRACE = Duration.ofSeconds(60);
  private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(2);
  static final String USER_ATTRIBUTE = "yaad.session.user";
  static final String LANG_ATTRIBUTE = "yaad.session.lang";
  /** A BCP 47 tag, loosely: letters, digits and hyphens, up to 35 characters (as {@code ur-PK}). */
  static final Pattern LANGUAGE_TAG = Pattern.compile("[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4}");

  /**
   * How the endpoint treats its connections, and what one client may take from it. Start from
   * {@link #defaults()}.
   *
   * @param pingInterval       how often the server pings each connection
   * @param idleTimeout        a connection from which nothing (no message, no pong) arrived for
   *                           this long is closed {@code 1001 idle}; at least twice {@code pingInterval}
   * @param maxSessions        open sessions on this server; the next connection is closed {@code 1013}
   * @param maxQueuedBytes     bytes of messages waiting to be written to one client; beyond it the
   *                           client is too slow and is closed {@code 1013}
   * @param maxInvalidInARow   invalid (or rate-limited) client messages in a row before the server
   *                           closes {@code 1008}
   * @param maxFrameBytes      the largest client message; a larger one is closed {@code 1009} (by Jetty)
   * @param maxSessionsPerUser open sessions of one user on this server; the next is closed {@code 1008}
   * @param messageRate        client messages (text frames) one session may send; beyond it each
   *                           is answered {@code rate_limited} and dropped
   * @param byteRate           bytes one session may send, every frame counted (binary ones too)
   * @param llmBudget          model answers (greetings and replies) one user may have; beyond it a
   *                           turn is answered {@code llm_budget_exhausted}; {@link Rate#OFF} for none
   * @param audioBurst         how far ahead of real time a session's audio may run: its audio bytes
   *                           refill at {@value #AUDIO_RATE_SLACK} times real time at the input rate, and
   *                           hold this much audio at most; a client beyond it is closed {@code 4429}
   */
  public record Settings(Duration pingInterval, Duration idleTimeout, int maxSessions, long maxQueuedBytes,
      int maxInvalidInARow, int maxFrameBytes, int maxSessionsPerUser, Rate messageRate, Rate byteRate, Rate llmBudget,
      Duration audioBurst) {
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(15);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(45);
    public static final int DEFAULT_MAX_SESSIONS = 1000;
    public static final long DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_INVALID_IN_A_ROW = 20;
    public static final int DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
    public static final int DEFAULT_MAX_SESSIONS_PER_USER = 8;
    public static final Rate DEFAULT_MESSAGE_RATE = Rate.of(30, Duration.ofSeconds(10));
    public static final Rate DEFAULT_BYTE_RATE = Rate.of(4 * 1024 * 1024, Duration.ofSeconds(10));
    public static final Rate DEFAULT_LLM_BUDGET = Rate.of(1000, Duration.ofHours(1));
    public static final Duration DEFAULT_AUDIO_BURST = Duration.ofSeconds(5);
    /** Audio may arrive this much faster than real time for as long as it likes: clocks drift, networks bunch frames. */
    public static final double AUDIO_RATE_SLACK = 1.25;

    public Settings {
      Objects.requireNonNull(pingInterval, "pingInterval");
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      Objects.requireNonNull(messageRate, "messageRate");
      Objects.requireNonNull(byteRate, "byteRate");
      Objects.requireNonNull(llmBudget, "llmBudget");
      Objects.requireNonNull(audioBurst, "audioBurst");
      if (audioBurst.toMillis() < 100) {
        throw new IllegalArgumentException("audioBurst cannot be less than 100 ms: a network that delivers a few frames"
            + " together must not close the session (was " + audioBurst.toMillis() + " ms)");
      }
      if (pingInterval.isNegative() || pingInterval.isZero()) {
        throw new IllegalArgumentException("pingInterval must be positive (was " + pingInterval + ")");
      }
      if (idleTimeout.compareTo(pingInterval.multipliedBy(2)) < 0) {
        throw new IllegalArgumentException("idleTimeout (" + idleTimeout + ") must be at least twice pingInterval ("
            + pingInterval + "), or a healthy client would be closed between two pongs");
      }
      if (maxSessions < 1 || maxInvalidInARow < 1 || maxSessionsPerUser < 1) {
        throw new IllegalArgumentException("maxSessions, maxInvalidInARow and maxSessionsPerUser cannot be less than 1 (were "
            + maxSessions + ", " + maxInvalidInARow + ", " + maxSessionsPerUser + ")");
      }
      if (maxFrameBytes < 16 * 1024) {
        throw new IllegalArgumentException("maxFrameBytes cannot be less than 16384: a user_text of 8 KiB must fit (was "
            + maxFrameBytes + ")");
      }
      if (maxQueuedBytes < maxFrameBytes) {
        throw new IllegalArgumentException("maxQueuedBytes (" + maxQueuedBytes + ") cannot be less than maxFrameBytes ("
            + maxFrameBytes + "): a reply as large as a client message must fit");
      }
      if (!byteRate.off() && byteRate.count() < maxFrameBytes) {
        throw new IllegalArgumentException("byteRate (" + byteRate + ") must allow at least maxFrameBytes (" + maxFrameBytes
            + ") at once, or the largest message could never be sent");
      }
    }

    public static Settings defaults() {
      return new Settings(DEFAULT_PING_INTERVAL, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_QUEUED_BYTES,
          DEFAULT_MAX_INVALID_IN_A_ROW, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_SESSIONS_PER_USER, DEFAULT_MESSAGE_RATE,
          DEFAULT_BYTE_RATE, DEFAULT_LLM_BUDGET, DEFAULT_AUDIO_BURST);
    }

    public Settings withHeartbeat(Duration ping, Duration idle) {
      return new Settings(ping, idle, maxSessions, maxQueuedBytes, maxInvalidInARow, maxFrameBytes, maxSessionsPerUser,
          messageRate, byteRate, llmBudget, audioBurst);
    }

    /** Sessions on this server, sessions of one user, and bytes waiting for one client. */
    public Settings withLimits(int sessions, int sessionsPerUser, long queuedBytes) {
      return new Settings(pingInterval, idleTimeout, sessions, queuedBytes, maxInvalidInARow, maxFrameBytes, sessionsPerUser,
          messageRate, byteRate, llmBudget, audioBurst);
    }

    /** What one session may send, in messages and in bytes, and what one user may cost in model answers. */
    public Settings withRates(Rate messages, Rate bytes, Rate llmAnswers) {
      return new Settings(pingInterval, idleTimeout, maxSessions, maxQueuedBytes, maxInvalidInARow, maxFrameBytes,
          maxSessionsPerUser, messages, bytes, llmAnswers, audioBurst);
    }

    /** How far ahead of real time a session's audio may run before the client is closed {@code 4429}. */
    public Settings withAudioBurst(Duration burst) {
      return new Settings(pingInterval, idleTimeout, maxSessions, maxQueuedBytes, maxInvalidInARow, maxFrameBytes,
          maxSessionsPerUser, messageRate, byteRate, llmBudget, burst);
    }
  }

  private final AgentRuntime runtime;
  private final Voice voice;
  private final Authenticator authenticator;
  private final Settings settings;
  private final WebRtcSignalling webrtc;
  private final ConcurrentHashMap<String, SessionSocket> sockets = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Set<SessionSocket>> byUser = new ConcurrentHashMap<>();
  private final ScheduledExecutorService heartbeat;
  private final RateLimiter<String> llmAnswers;
  private final ClusterEvents events;
  /** Users being deleted -> until when their new sessions are refused (System.nanoTime). */
  private final ConcurrentHashMap<String, Long> deleting = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** One instance: {@code learned} and deletions stay in this process. */
  public SessionApi(AgentRuntime runtime, Authenticator authenticator, Settings settings) {
    this(runtime, null, authenticator, settings, ClusterEvents.local(),
        WebRtcSignalling.off("webrtc_unavailable", "this server does not offer WebRTC"));
  }

  /**
   * @param voice  the speech engines that turn audio frames into turns and replies into audio, or {@code null} for text only
   * @param events shared with the memory API (deletions) and the other instances
   * @param webrtc answers the {@code webrtc_*} messages of every session (its calls end with their sessions)
   */
  public SessionApi(AgentRuntime runtime, Voice voice, Authenticator authenticator, Settings settings, ClusterEvents events,
      WebRtcSignalling webrtc) {
    this.webrtc = Objects.requireNonNull(webrtc, "webrtc");
    this.runtime = Objects.requireNonNull(runtime, "runtime");
    this.voice = voice;
    this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.events = Objects.requireNonNull(events, "events");
    events.subscribe(this::onEvent);
    this.llmAnswers = new RateLimiter<>(settings.llmBudget());
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("yaad-ws-heartbeat").factory());
    long every = settings.pingInterval().toMillis();
    heartbeat.scheduleWithFixedDelay(this::beat, every, every, TimeUnit.MILLISECONDS);
    runtime.learner().ifPresent(learner -> learner.onLearned(this::learned));
  }

  /** Adds the endpoint to {@code app} (before it starts): pass {@code sessions::install} as {@link HttpApp.Setup#sessions()}. */
  public void install(Javalin app) {
    app.wsBeforeUpgrade(PATH, this::beforeUpgrade);
    app.ws(PATH, ws -> {
      ws.onConnect(this::connected);
      ws.onMessage(ctx -> with(ctx, socket -> socket.received(ctx.message(), SessionSocket.utf8Length(ctx.message()))));
      ws.onBinaryMessage(ctx -> with(ctx, socket -> socket.receivedAudio(ctx.data(), ctx.offset(), ctx.length())));
      ws.onClose(ctx -> with(ctx, socket -> socket.socketClosed(ctx.status(), ctx.reason())));
      ws.onError(ctx -> with(ctx, socket -> socket.socketFailed(ctx.error())));
    });
  }

  WebRtcSignalling webrtc() {
    return webrtc;
  }

  /** Connections open now. */
  public int openConnections() {
    return sockets.size();
  }

  /**
   * Closes every connection with {@code 1001} ("server shutting down"); each one's session
   * goes through {@code CLOSING → CLOSED}. New connections are refused from now on.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<SessionSocket> open = List.copyOf(sockets.values());
    for (SessionSocket socket : open) {
      socket.shutDown();
    }
    heartbeat.shutdownNow();
    // Let the writers put closing, closed and the close frame on the wire before the server stops.
    long deadline = System.nanoTime() + SHUTDOWN_WAIT.toNanos();
    try {
      for (SessionSocket socket : open) {
        socket.awaitWriter(TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!open.isEmpty()) {
      log.info("session: closed {} open sessions for shutdown", open.size());
    }
  }

  // ---------------------------------------------------------------- connection events

  private void beforeUpgrade(Context ctx) {
    String user = Access.sessionUser(ctx, authenticator);
    String lang = ctx.queryParam("lang");
    if (lang != null && !lang.isBlank() && !LANGUAGE_TAG.matcher(lang.strip()).matches()) {
      throw new BadRequestResponse("lang must be a BCP 47 language tag such as ur-PK or en-US (was '" + abbreviate(lang) + "')");
    }
    ctx.attribute(USER_ATTRIBUTE, user);
    ctx.attribute(LANG_ATTRIBUTE, lang == null || lang.isBlank() ? null : lang.strip());
  }

  private void connected(WsContext ctx) {
    String user = ctx.attribute(USER_ATTRIBUTE);
    String lang = ctx.attribute(LANG_ATTRIBUTE);
    ctx.session.setMaxTextMessageSize(settings.maxFrameBytes());
    ctx.session.setMaxBinaryMessageSize(settings.maxFrameBytes());
    // A backstop for writes that stall (a client that stopped reading): healthy traffic resets it.
    ctx.session.setIdleTimeout(settings.idleTimeout().plus(settings.pingInterval()));
    SessionSocket socket = new SessionSocket(this, ctx, user, settings, voice);
    sockets.put(ctx.sessionId(), socket);
    if (closed) {
      socket.refuse(1001, "server shutting down", "shutdown");
      return;
    }
    if (sockets.size() > settings.maxSessions()) {
      socket.refuse(1013, "too many sessions on this server now; retry with backoff", "full");
      return;
    }
    boolean[] admitted = {false};
    byUser.compute(user, (k, mine) -> {
      Set<SessionSocket> set = mine == null ? ConcurrentHashMap.newKeySet() : mine;
      if (set.size() < settings.maxSessionsPerUser()) {
        admitted[0] = set.add(socket);
      }
      return set.isEmpty() ? null : set;
    });
    if (!admitted[0]) {
      socket.refuse(1008, "this user has " + settings.maxSessionsPerUser() + " sessions open, the most allowed; end one first",
          "user_full");
      return;
    }
    if (beingDeleted(user)) { // after admission: a deletion that began meanwhile either closes it or is seen here
      socket.refuse(CLOSE_USER_DELETED, "this user is being deleted", "user_deleted");
      return;
    }
    socket.start(runtime, lang);
  }

  /**
   * Spends one model answer (a greeting or a reply) from the user's budget.
   *
   * @return 0 if spent; otherwise the nanoseconds until the budget has one again
   */
  long spendLlmAnswer(String userId) {
    return llmAnswers.tryTake(userId, 1);
  }

  /** Runs {@code action} on the connection's socket; a socket already forgotten (closed, refused) gets nothing. */
  private void with(WsContext ctx, Consumer<SessionSocket> action) {
    SessionSocket socket = sockets.get(ctx.sessionId());
    if (socket != null) {
      action.accept(socket);
    }
  }

  /** Called by a socket once it is closed: it gets no more learned events and counts no more. */
  void forget(SessionSocket socket) {
    sockets.remove(socket.connectionId(), socket);
    byUser.computeIfPresent(socket.userId(), (k, set) -> {
      set.remove(socket);
      return set.isEmpty() ? null : set;
    });
  }

  /**
   * Queues a {@code learned} message to every open session of the user, here and on the other
   * instances: from the learner's threads, and from a session's when one of its tools changed
   * memory. Never waits (the other instances get it from Redis asynchronously).
   */
  void learned(Learned learned) {
    events.publish(new ClusterEvents.Learned(learned.userId(), SessionMessages.learned(learned)));
  }

  private void onEvent(ClusterEvents.Event event) {
    switch (event) {
      case ClusterEvents.Learned l -> {
        for (SessionSocket socket : socketsOf(l.userId())) {
          socket.send(l.message());
        }
      }
      case ClusterEvents.UserDeleting d -> {
        deleting.put(d.userId(), System.nanoTime() + DELETION_GRACE.toNanos());
        List<SessionSocket> open = socketsOf(d.userId());
        for (SessionSocket socket : open) {
          socket.userDeleted();
        }
        if (!open.isEmpty()) {
          log.info("session: closing {} sessions of user {}: the user is being deleted", open.size(), d.userId());
        }
      }
      case ClusterEvents.UserDeleted d -> deleting.remove(d.userId());
    }
  }

  private List<SessionSocket> socketsOf(String userId) {
    Set<SessionSocket> mine = byUser.get(userId);
    return mine == null ? List.of() : List.copyOf(mine);
  }

  private boolean beingDeleted(String userId) {
    Long until = deleting.get(userId);
    if (until != null && System.nanoTime() - until > 0) {
      deleting.remove(userId, until);
      return false;
    }
    return until != null;
  }

  private void beat() {
    for (SessionSocket socket : sockets.values()) {
      try {
        socket.beat();
      } catch (RuntimeException e) {
        log.warn("session: heartbeat of {} failed: {}", socket.connectionId(), e.toString());
      }
    }
  }

  static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
