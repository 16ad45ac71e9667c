package dev.yaad.agent.learning;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.agent.AgentMetrics;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.memory.MemoryAccess;
import dev.yaad.memory.MemoryException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learning in the background, after turns and off their path: memory extraction and
 * profile refresh, on a bounded queue with per-user ordering, made durable by an outbox
 * table in the database.
 *
 * <p><b>Extraction.</b> Each finished turn is written to the outbox at once. A session's
 * turns are extracted together by one LLM call (JSON: category, content, operation) when
 * {@link LearningConfig#batchTurns()} are waiting, when the session has paused for
 * {@link LearningConfig#pauseDelay()}, and when it ends; results go through the memory
 * port's de-duplicating {@code save}. Only then are the turns deleted from the outbox, so a
 * crash repeats an extraction (harmless: saving the same memory again is {@code UNCHANGED})
 * and never loses one.
 *
 * <p><b>Profile refresh</b> is asked for by memory changes only (extraction that changed
 * something, a memory tool writing), never by message count. It is debounced
 * (it runs once no change has arrived for {@link LearningConfig#profileDebounce()}), rate-limited per user
 * ({@link LearningConfig#profileMinInterval()}), coalesced (one pending refresh per user
 * collects every reason), single-flight (a user's work runs on one strand at a time), and
 * saved only if meaningfully different ({@link LearningConfig#profileSimilarity()}).
 * Every decision is reported as a {@link RefreshDecision}.
 *
 * <p><b>Failures.</b> When the LLM or the store fails, the work stays in the outbox and is
 * retried with exponential backoff (up to {@link LearningConfig#retryMax()}), forever.
 * Work left by a crashed process is taken over once its lease expires.
 *
 * <p>This class is the facade: the parts are package-private, one concern each ({@code Lanes}:
 * per-user strands and the bound; {@code PauseTimers}: when a session's batch falls due;
 * {@code Extractor}; {@code ProfileRefresher}; {@code Retries}; {@code Outbox}).
 *
 * <p>Thread-safe. {@link #close()} stops taking new work and lets the current task finish;
 * whatever is not done stays in the outbox for the next start.
 */
public final class Learner implements LearningSink, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Learner.class);
  private static final int MAX_ASSISTANT_CHARS = 2000;
  private static final int DUE_USERS_PER_POLL = 100;
  /** How far a poll grows while every poll finds a full page of users with due work. */
  private static final int MAX_DUE_USERS_PER_POLL = 1_000;
  /** Extraction calls one claim covers at most; a deeper backlog is claimed again right after. */
  private static final int BATCHES_PER_CLAIM = 4;
  /** Reasons a waiting profile-refresh request keeps (it counts every change). */
  private static final int MAX_REASONS = 10;
  /** How long {@link #close()} waits for turns held in memory to reach the database. */
  static final Duration CLOSE_FLUSH_WAIT = Duration.ofSeconds(10);

  /**
   * Counters since start; {@code turnsAccepted - turnsExtracted} turns are waiting (or were lost, if none wait).
   * {@code refreshesDeferred}: profile-refresh requests that found the queue full and waited (coalesced
   * per user) for room instead of being dropped.
   */
  public record Stats(
      long turnsAccepted, long turnsExtracted, long turnsUnparseable, long extractionCalls, long profileCalls,
      long profilesSaved, long profilesUnchanged, long memoriesChanged, long failures,
      long refreshesDeferred) {

    /** Background LLM calls (extraction + profile). */
    public long llmCalls() {
      return extractionCalls + profileCalls;
    }
  }

  private final Outbox outbox;
  private final LearningConfig config;
  private final Clock clock;
  private final String owner = "learner-" + UUID.randomUUID();
  private final Counters counters = new Counters();
  private final Lanes lanes;
  private final LlmPermits permits;
  private final ScheduledExecutorService timers;
  private final PauseTimers pauses;
  private final ProfileRefresher profiles;
  private final Extractor extractor;
  private final TurnBuffer turnBuffer;
  private final Set<String> signalled = ConcurrentHashMap.newKeySet();
  /** Profile-refresh requests not yet in the outbox, one per user, each gathering every reason. */
  private final Map<String, RefreshRequest> refreshRequests = new ConcurrentHashMap<>();
  private volatile int dueUsersPerPoll = DUE_USERS_PER_POLL;
  private volatile long lagMillis;
  private volatile boolean lagging;
  private final List<Consumer<Learned>> learnedListeners = new CopyOnWriteArrayList<>();
  private final ScheduledFuture<?> poller;
  private volatile boolean draining;
  /** Whether the last poll failed (the poller's thread only; drain polls too, hence volatile). */
  private volatile boolean pollFailing;

  private Learner(Builder b) {
    this.config = b.config;
    this.clock = b.clock;
    this.outbox = Outbox.open(b.dataSource);
    TurnJournal journal = config.turnJournal() == null ? null : TurnJournal.open(config.turnJournal()); // fails before threads start
    this.lanes = new Lanes(config);
    this.permits = new LlmPermits(config.llmConcurrency());
    this.timers = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "yaad-learner-timers");
      t.setDaemon(true);
      return t;
    });
    this.pauses = new PauseTimers(config, timers);
    Retries retries = new Retries(outbox, config, clock, counters, b.metrics, lanes::stopped);
    this.profiles = new ProfileRefresher(b.memory, b.llm, permits, outbox, config, clock, retries, counters, b.metrics, this::announce);
    this.extractor = new Extractor(b.memory, b.llm, permits, outbox, retries, counters, b.metrics, profiles, this::announce);
    this.turnBuffer = new TurnBuffer(config.turnBufferBytes(),
        turns -> outbox.insertTurns(turns, config.pauseDelay().toMillis()), this::turnStored, b.metrics, journal);
    this.poller = timers.scheduleWithFixedDelay(this::poll, 0, config.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
    timers.scheduleWithFixedDelay(() -> permits.adjust(lagging), LlmPermits.INTERVAL_MS, LlmPermits.INTERVAL_MS, TimeUnit.MILLISECONDS);
    log.info("learner: started as {} (batch {} turns or {} s pause, profile at most every {} s, at most {} LLM calls at once)",
        owner, config.batchTurns(), config.pauseDelay().toSeconds(), config.profileMinInterval().toSeconds(),
        config.llmConcurrency());
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- what sessions hand over

  /**
   * A turn finished (completed, interrupted or cancelled): queue it for extraction. Returns at
   * once. The turn is written to the outbox by a writer of its own; while the database cannot
   * take it, it waits in memory (up to {@link LearningConfig#turnBufferBytes()}) and is retried.
   *
   * @return false if it could not be kept (that buffer is full): the turn is lost
   */
  @Override
  public boolean turnCompleted(String userId, String sessionId, String userText, String assistantText) {
    ObjectNode payload = Outbox.JSON.createObjectNode();
    payload.put("user", userText);
    payload.put("assistant", assistantText.length() > MAX_ASSISTANT_CHARS ? assistantText.substring(0, MAX_ASSISTANT_CHARS) : assistantText);
    return turnBuffer.offer(new TurnBuffer.Turn(userId, sessionId, payload.toString(), clock.millis(),
        UUID.randomUUID().toString()));
  }

  /**
   * Memories of this user changed outside extraction (a tool wrote): schedule a profile refresh.
   * Requests of a user coalesce while one waits to be written to the outbox; when the queue is
   * full the request waits here (one per user) and the poller hands it over: never dropped.
   */
  @Override
  public void memoryChanged(String userId, String reason) {
    RefreshRequest request = refreshRequests.compute(userId, (k, pending) -> {
      RefreshRequest r = pending != null ? pending : new RefreshRequest();
      r.changes++;
      if (r.reasons.size() < MAX_REASONS) {
        r.reasons.add(reason);
      }
      return r;
    });
    handOver(userId, request);
  }

  /** A live reply's first token took this long: learning takes fewer LLM calls at once while replies slow down. */
  @Override
  public void replyStarted(Duration firstToken) {
    permits.replyStarted(firstToken.toNanos() / 1e6);
  }

  /** The session ended: extract its waiting turns now (once its last turns are in the outbox). */
  @Override
  public void sessionEnded(String userId, String sessionId) {
    turnBuffer.afterWritten(() -> {
      boolean queued = lanes.accept(userId, () -> {
        flushSession(sessionId, clock.millis());
        pauses.forget(sessionId);
        signalWork(userId);
      });
      if (!queued) {
        pauses.forget(sessionId); // its turns are in the outbox and fall due after the pause delay
      }
    });
  }

  /** Told every profile-refresh decision (on a learner thread; keep it quick). */
  public void addListener(Consumer<RefreshDecision> listener) {
    profiles.addListener(listener);
  }

  /** Told what was stored for a user, after it is stored (on a learner thread; keep it quick). */
  public void onLearned(Consumer<Learned> listener) {
    learnedListeners.add(listener);
  }

  public Stats stats() {
    return counters.snapshot();
  }

  /** The latest profile-refresh decisions, oldest first (at most 200). */
  public List<RefreshDecision> recentDecisions() {
    return profiles.recentDecisions();
  }

  /**
   * How far learning is behind: the age of the oldest turn in the outbox not yet extracted, in
   * seconds (0 when none waits), as of the last poll; cheap to read.
   */
  public double lagSeconds() {
    return lagMillis / 1000.0;
  }

  /** Background LLM calls running now (at most {@link #llmCallsLimit()}). */
  public int llmCallsInFlight() {
    return permits.inFlight();
  }

  /**
   * Background LLM calls allowed at once now: between 2 and {@link LearningConfig#llmConcurrency()},
   * more while work waits and live replies stay fast, fewer when they slow down.
   */
  public int llmCallsLimit() {
    return permits.limit();
  }

  /** Tasks waiting in memory for a learner thread (bounded by {@link LearningConfig#queueCapacity()}); cheap to read. */
  public int queueDepth() {
    return lanes.queued();
  }

  /** Finished turns held in memory because the database could not take them yet; cheap to read. */
  public int heldTurns() {
    return turnBuffer.held();
  }

  /** Bytes of {@link #heldTurns()} (bounded by {@link LearningConfig#turnBufferBytes()}). */
  public long heldTurnBytes() {
    return turnBuffer.heldBytes();
  }

  /** Turns dropped since start because too many were held while the database could not take them. */
  public long droppedTurns() {
    return turnBuffer.dropped();
  }

  /** Rows waiting in the outbox (all kinds). */
  public long pending() {
    return outbox.count();
  }

  /**
   * Makes all waiting work due now (as if every session had paused and every debounce had
   * passed) and waits until the outbox is empty: for a drain before shutdown, and for
   * measurements that must count finished work.
   *
   * @return true if empty within the timeout
   */
  public boolean drain(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    draining = true;
    try {
      for (String sessionId : pauses.sessions()) {
        flushSession(sessionId, clock.millis());
      }
      while (true) {
        outbox.makeAllDue(clock.millis()); // again each time: work creates work (extraction -> profile refresh)
        poll();
        if (turnBuffer.held() == 0 && outbox.count() == 0 && lanes.queued() == 0 && refreshRequests.isEmpty()) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        lanes.awaitProgress(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
      }
    } finally {
      draining = false;
    }
  }

  @Override
  public void close() {
    if (lanes.stopped()) {
      return;
    }
    turnBuffer.close(CLOSE_FLUSH_WAIT); // first: turns held while the database was away get their chance
    poller.cancel(false);
    timers.shutdownNow();
    lanes.stop();
    for (String userId : refreshRequests.keySet()) {
      writeRefreshRequest(userId); // into the outbox, for the next start
    }
    log.info("learner: stopped ({} rows left in the outbox for the next start)", safeCount());
  }

  private long safeCount() {
    try {
      return outbox.count();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  // ---------------------------------------------------------------- turns and due work

  /** A turn is in the outbox (on the turn buffer's writer): its session's batch may be complete. */
  private void turnStored(TurnBuffer.Turn turn) {
    String userId = turn.userId();
    String sessionId = turn.sessionId();
    long now = clock.millis();
    counters.turnsAccepted.incrementAndGet();
    if (sessionId == null) {
      return;
    }
    boolean full = pauses.turnAdded(sessionId, () -> lanes.accept(userId, () -> {
      flushSession(sessionId, clock.millis());
      signalWork(userId);
    }));
    if (full) {
      flushSession(sessionId, now);
      signalWork(userId);
    }
  }

  private void flushSession(String sessionId, long now) {
    pauses.reset(sessionId);
    outbox.makeSessionDue(sessionId, now);
  }

  /** Asks for the user's due work to be done, once however often asked before it starts. */
  private void signalWork(String userId) {
    if (signalled.add(userId) && !lanes.work(userId, () -> {
      signalled.remove(userId);
      permits.task(() -> process(userId));
    })) {
      signalled.remove(userId); // full or stopped: the poller will find the work in the database
    }
  }

  /**
   * Finds users with due work in the database (retries, pauses, leftovers) and queues them,
   * hands over refresh requests that waited for room, and measures the lag. While every poll
   * finds a full page of users, the page grows (up to {@value #MAX_DUE_USERS_PER_POLL}).
   */
  private void poll() {
    if (lanes.stopped()) {
      return;
    }
    try {
      List<String> due = outbox.dueUsers(clock.millis(), dueUsersPerPoll);
      for (String userId : due) {
        signalWork(userId);
      }
      dueUsersPerPoll = due.size() < dueUsersPerPoll ? DUE_USERS_PER_POLL : Math.min(MAX_DUE_USERS_PER_POLL, 2 * dueUsersPerPoll);
      refreshRequests.forEach(this::handOver);
      measureLag();
      if (pollFailing) {
        pollFailing = false;
        log.info("learner: the outbox can be read again");
      }
    } catch (RuntimeException e) {
      if (!pollFailing) { // once per outage, not once per poll
        pollFailing = true;
        log.warn("learner: polling the outbox failed; retrying every {} ms: {}", config.pollInterval().toMillis(), e.getMessage());
      } else {
        log.debug("learner: polling the outbox failed again: {}", e.getMessage());
      }
    }
  }

  /** One WARN line when the lag crosses {@link LearningConfig#lagWarning()}, one INFO line when it is back under. */
  private void measureLag() {
    long oldest = outbox.oldestTurn();
    long lag = oldest < 0 ? 0 : Math.max(0, clock.millis() - oldest);
    lagMillis = lag;
    boolean behind = lag > config.lagWarning().toMillis();
    if (behind && !lagging) {
      log.warn("learner: learning is falling behind: the oldest waiting turn is {} s old (warning at {} s; {} rows in the"
          + " outbox, {} LLM calls in flight, {} allowed now, at most {})", lag / 1000, config.lagWarning().toSeconds(),
          outbox.count(), permits.inFlight(), permits.limit(), config.llmConcurrency());
    } else if (!behind && lagging) {
      log.info("learner: learning has caught up: the oldest waiting turn is {} s old", lag / 1000);
    }
    lagging = behind;
  }

  // ---------------------------------------------------------------- profile-refresh requests

  /** A user's refresh requests while they wait to be written to the outbox. Guarded by the map's compute. */
  private static final class RefreshRequest {
    int changes;
    final List<String> reasons = new ArrayList<>();
    boolean queued;
    boolean deferred;
  }

  /** Queues the writing of the user's waiting request, unless it is queued already; if full, it waits for the poller. */
  private void handOver(String userId, RefreshRequest request) {
    boolean[] mine = {false};
    refreshRequests.computeIfPresent(userId, (k, r) -> {
      if (r == request && !r.queued) {
        r.queued = true;
        mine[0] = true;
      }
      return r;
    });
    if (mine[0] && !lanes.work(userId, () -> writeRefreshRequest(userId))) {
      refreshRequests.computeIfPresent(userId, (k, r) -> {
        r.queued = false;
        if (!r.deferred) {
          r.deferred = true;
          counters.refreshesDeferred.incrementAndGet();
        }
        return r;
      });
    }
  }

  /** Writes the user's waiting request into the outbox (coalescing with a pending refresh there). */
  private void writeRefreshRequest(String userId) {
    RefreshRequest request = refreshRequests.remove(userId);
    if (request == null) {
      return;
    }
    try {
      profiles.request(userId, request.reasons, request.changes);
    } catch (RuntimeException e) {
      // The database is down: keep the request (merged with any newer one) for the next poll.
      refreshRequests.merge(userId, request, (newer, older) -> {
        newer.changes += older.changes;
        older.reasons.stream().limit(MAX_REASONS - newer.reasons.size()).forEach(newer.reasons::add);
        return newer;
      });
      refreshRequests.computeIfPresent(userId, (k, r) -> {
        r.queued = false;
        return r;
      });
      log.warn("learner: cannot record a profile refresh for user {} (kept; tried again at the next poll): {}",
          userId, e.getMessage());
    }
  }

  /** Does the user's due work; runs on the user's strand. */
  private void process(String userId) {
    long now = clock.millis();
    List<Outbox.Row> rows;
    int limit = BATCHES_PER_CLAIM * config.maxBatchTurns();
    try {
      rows = outbox.claim(userId, owner, now, now + config.lease().toMillis(), limit);
    } catch (MemoryException e) {
      log.warn("learner: cannot claim work of user {}: {}", userId, e.getMessage());
      return; // the poller tries again
    }
    if (rows.isEmpty()) {
      return;
    }
    boolean extracted = false;
    try {
      List<Outbox.Row> turns = rows.stream().filter(r -> r.kind().equals(Outbox.TURN)).toList();
      boolean turnsDue = draining || turns.stream().anyMatch(r -> r.dueAt() <= now);
      if (turnsDue) {
        extracted = true;
        for (int from = 0; from < turns.size() && extracted; from += config.maxBatchTurns()) {
          // false: failed, retried later, in order
          extracted = extractor.extract(userId, turns.subList(from, Math.min(turns.size(), from + config.maxBatchTurns())));
        }
      }
      for (Outbox.Row r : rows) {
        if (r.kind().equals(Outbox.PROFILE) && (draining || r.dueAt() <= clock.millis())) {
          profiles.refresh(userId, r, draining);
        }
      }
    } finally {
      try {
        outbox.release(userId, owner);
      } catch (MemoryException e) {
        if (lanes.stopped()) { // the stop interrupted this task; its "stopped" line sums up what is left
          log.debug("learner: cannot release work of user {} while stopping (its lease will expire): {}", userId, e.getMessage());
        } else {
          log.warn("learner: cannot release work of user {} (its lease will expire): {}", userId, e.getMessage());
        }
      }
    }
    if (extracted && rows.size() == limit) {
      signalWork(userId); // a deep backlog: the next rows at once, after this task (the user's work stays in order)
    }
  }

  private void announce(Learned learned) {
    for (Consumer<Learned> l : learnedListeners) {
      try {
        l.accept(learned);
      } catch (RuntimeException e) {
        log.warn("learner: a learned listener failed: {}", e.toString());
      }
    }
  }

  /** Configures a {@link Learner}; data source, memory and llm are required. */
  public static final class Builder {
    private DataSource dataSource;
    private MemoryAccess memory;
    private Llm llm;
    private LearningConfig config = LearningConfig.defaults();
    private AgentMetrics metrics = AgentMetrics.NONE;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Where the outbox table lives: the memory engine's database ({@code Memories.dataSource()}),
     * whose migrations create it.
     */
    public Builder dataSource(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      return this;
    }

    public Builder memory(MemoryAccess memory) {
      this.memory = Objects.requireNonNull(memory, "memory");
      return this;
    }

    public Builder llm(Llm llm) {
      this.llm = Objects.requireNonNull(llm, "llm");
      return this;
    }

    public Builder config(LearningConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    public Builder metrics(AgentMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Starts: work left in the outbox by an earlier run is picked up by the first poll.
     *
     * @throws IllegalStateException if something required is missing, or the data source has
     *     no outbox table (it is not the memory engine's)
     */
    public Learner build() {
      if (dataSource == null || memory == null || llm == null) {
        throw new IllegalStateException("dataSource, memory and llm are required: Learner.builder().dataSource(...).memory(...).llm(...)");
      }
      return new Learner(this);
    }
  }
}
