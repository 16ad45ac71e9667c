package dev.yaad.agent.learning;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.yaad.agent.AgentMetrics;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.Prompts;
import dev.yaad.agent.memory.MemoryAccess;
import dev.yaad.memory.ConflictException;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryException;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
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
 * <p>Thread-safe. {@link #close()} stops taking new work and lets the current task finish;
 * whatever is not done stays in the outbox for the next start.
 */
public final class Learner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Learner.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_REASONS = 10;
  private static final int MAX_DECISIONS = 200;
  private static final int MAX_ASSISTANT_CHARS = 2000;
  private static final int MAX_PARSE_FAILURES = 3;

  /** Counters since start; {@code turnsAccepted - turnsExtracted} turns are waiting (or were lost, if none wait). */
  public record Stats(
      long turnsAccepted, long turnsExtracted, long turnsUnparseable, long extractionCalls, long profileCalls,
      long profilesSaved, long profilesUnchanged, long memoriesChanged, long failures, long queueFull) {

    /** Background LLM calls (extraction + profile). */
    public long llmCalls() {
      return extractionCalls + profileCalls;
    }
  }

  private final Outbox outbox;
  private final MemoryAccess memory;
  private final Llm llm;
  private final LearningConfig config;
  private final AgentMetrics metrics;
  private final Clock clock;
  private final String owner = "learner-" + UUID.randomUUID();
  private final ExecutorService workers;
  private final ScheduledExecutorService timers;
  private final ExecutorService acceptThreads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("yaad-learner-accept-", 0).factory());
  private final Map<String, CompletableFuture<Void>> acceptLanes = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Void>> workLanes = new ConcurrentHashMap<>();
  private final Set<String> signalled = ConcurrentHashMap.newKeySet();
  private final AtomicInteger queued = new AtomicInteger();
  private final Map<String, SessionBatch> sessions = new ConcurrentHashMap<>();
  private final Map<String, Long> lastRefresh = new ConcurrentHashMap<>();
  private final List<Consumer<RefreshDecision>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<Learned>> learnedListeners = new CopyOnWriteArrayList<>();
  private final Deque<RefreshDecision> decisions = new ArrayDeque<>();
  private final ReentrantLock idleLock = new ReentrantLock();
  private final Condition progress = idleLock.newCondition();
  private final ScheduledFuture<?> poller;
  private volatile boolean stopped;
  /** Set by {@link #abandon()}: behave as a dead process, write nothing more. */
  private volatile boolean abandoned;

  private final AtomicLong turnsAccepted = new AtomicLong();
  private final AtomicLong turnsExtracted = new AtomicLong();
  private final AtomicLong turnsUnparseable = new AtomicLong();
  private final AtomicLong extractionCalls = new AtomicLong();
  private final AtomicLong profileCalls = new AtomicLong();
  private final AtomicLong profilesSaved = new AtomicLong();
  private final AtomicLong profilesUnchanged = new AtomicLong();
  private final AtomicLong memoriesChanged = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong queueFull = new AtomicLong();

  /** A session's turns waiting for their batch to fill, counted in memory (the turns are in the outbox). */
  private static final class SessionBatch {
    int waiting;
    ScheduledFuture<?> pauseTimer;
  }

  private Learner(Builder b) {
    this.memory = b.memory;
    this.llm = b.llm;
    this.config = b.config;
    this.metrics = b.metrics;
    this.clock = b.clock;
    this.outbox = Outbox.open(b.dataSource);
    this.workers = Executors.newFixedThreadPool(config.workers(), Thread.ofVirtual().name("yaad-learner-", 0).factory());
    this.timers = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "yaad-learner-timers");
      t.setDaemon(true);
      return t;
    });
    long poll = config.pollInterval().toMillis();
    this.poller = timers.scheduleWithFixedDelay(this::poll, 0, poll, TimeUnit.MILLISECONDS);
    log.info("learner: started as {} (batch {} turns or {} s pause, profile at most every {} s, {} workers)",
        owner, config.batchTurns(), config.pauseDelay().toSeconds(), config.profileMinInterval().toSeconds(), config.workers());
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---------------------------------------------------------------- what sessions hand over

  /** A turn finished (completed, interrupted or cancelled): queue it for extraction. Returns at once. */
  public void turnCompleted(String userId, String sessionId, String userText, String assistantText) {
    ObjectNode payload = JSON.createObjectNode();
    payload.put("user", userText);
    payload.put("assistant", assistantText.length() > MAX_ASSISTANT_CHARS ? assistantText.substring(0, MAX_ASSISTANT_CHARS) : assistantText);
    Runnable accept = () -> acceptTurn(userId, sessionId, payload.toString());
    if (!submitAccept(userId, accept)) {
      // The queue is full: never drop a turn; write it on the caller's thread instead.
      queueFull.incrementAndGet();
      accept.run();
    }
  }

  /** Memories of this user changed outside extraction (a tool wrote): schedule a profile refresh. */
  public void memoryChanged(String userId, String reason) {
    if (!submitWork(userId, () -> requestProfile(userId, reason, 1))) {
      log.warn("learner: queue full; a profile refresh for user {} is skipped ({})", userId, reason);
    }
  }

  /** The session ended: extract its waiting turns now. */
  public void sessionEnded(String userId, String sessionId) {
    boolean queuedOk = submitAccept(userId, () -> {
      flushSession(sessionId, clock.millis());
      sessions.remove(sessionId);
      signalWork(userId);
    });
    if (!queuedOk) {
      sessions.remove(sessionId); // its turns are in the outbox and fall due after the pause delay
    }
  }

  /** Told every profile-refresh decision (on a learner thread; keep it quick). */
  public void addListener(Consumer<RefreshDecision> listener) {
    listeners.add(listener);
  }

  /** Told what was stored for a user, after it is stored (on a learner thread; keep it quick). */
  public void onLearned(Consumer<Learned> listener) {
    learnedListeners.add(listener);
  }

  public Stats stats() {
    return new Stats(turnsAccepted.get(), turnsExtracted.get(), turnsUnparseable.get(), extractionCalls.get(),
        profileCalls.get(), profilesSaved.get(), profilesUnchanged.get(), memoriesChanged.get(), failures.get(),
        queueFull.get());
  }

  /** The latest profile-refresh decisions, oldest first (at most 200). */
  public List<RefreshDecision> recentDecisions() {
    synchronized (decisions) {
      return List.copyOf(decisions);
    }
  }

  /** Tasks waiting in memory for a learner thread (bounded by {@link LearningConfig#queueCapacity()}); cheap to read. */
  public int queueDepth() {
    return queued.get();
  }

  /** Rows waiting in the outbox (all kinds). */
  public long pending() {
    return outbox.count();
  }

  /**
   * Makes all waiting work due now (as if every session had paused and every debounce had
   * passed) and waits until the outbox is empty. For shutdown drains, benchmarks and tests.
   *
   * @return true if empty within the timeout
   */
  public boolean drain(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    draining = true;
    try {
      for (String sessionId : List.copyOf(sessions.keySet())) {
        SessionBatch batch = sessions.get(sessionId);
        if (batch != null) {
          flushSession(sessionId, clock.millis());
        }
      }
      while (true) {
        outbox.makeAllDue(clock.millis()); // again each time: work creates work (extraction -> profile refresh)
        poll();
        if (outbox.count() == 0 && queued.get() == 0) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        idleLock.lock();
        try {
          progress.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
        } finally {
          idleLock.unlock();
        }
      }
    } finally {
      draining = false;
    }
  }

  private volatile boolean draining;

  @Override
  public void close() {
    if (stopped) {
      return;
    }
    stopped = true;
    poller.cancel(false);
    timers.shutdownNow();
    acceptThreads.shutdown();
    workers.shutdown();
    try {
      acceptThreads.awaitTermination(5, TimeUnit.SECONDS);
      if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      workers.shutdownNow();
      Thread.currentThread().interrupt();
    }
    log.info("learner: stopped ({} rows left in the outbox for the next start)", safeCount());
  }

  /** Stops at once as a crash would: no waiting, no releasing of leases. For crash-recovery tests. */
  void abandon() {
    abandoned = true;
    stopped = true;
    timers.shutdownNow();
    acceptThreads.shutdownNow();
    workers.shutdownNow();
  }

  private long safeCount() {
    try {
      return outbox.count();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  // ---------------------------------------------------------------- strands: per-user order, bounded

  /**
   * Runs {@code task} after the user's earlier tasks of the same lane; false if the queue is
   * full or the learner stopped. Two lanes per user: accepting turns (quick database
   * writes) never waits behind working on them (LLM calls that may take seconds), so a
   * slow model never leaves a finished turn only in memory.
   */
  private boolean submit(Map<String, CompletableFuture<Void>> lane, ExecutorService threads, String userId, Runnable task) {
    // Accepting is never skipped once queued: close() lets queued turns reach the outbox.
    boolean essential = lane == acceptLanes;
    if (stopped) {
      return false;
    }
    if (queued.incrementAndGet() > config.queueCapacity()) {
      queued.decrementAndGet();
      return false;
    }
    @SuppressWarnings("unchecked")
    CompletableFuture<Void>[] mine = new CompletableFuture[1];
    try {
      lane.compute(userId, (k, tail) -> {
        CompletableFuture<Void> start = tail == null ? CompletableFuture.completedFuture(null) : tail;
        mine[0] = start.handleAsync((v, e) -> {
          try {
            if (!abandoned && (essential || !stopped)) {
              task.run();
            }
          } catch (RuntimeException ex) {
            log.warn("learner: task for user {} failed: {}", userId, ex.toString(), ex);
          } finally {
            queued.decrementAndGet();
            signalProgress();
          }
          return null;
        }, threads);
        return mine[0];
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      queued.decrementAndGet();
      return false;
    }
    mine[0].whenComplete((v, e) -> lane.remove(userId, mine[0]));
    return true;
  }

  private boolean submitAccept(String userId, Runnable task) {
    return submit(acceptLanes, acceptThreads, userId, task);
  }

  private boolean submitWork(String userId, Runnable task) {
    return submit(workLanes, workers, userId, task);
  }

  /** Asks for the user's due work to be done, once however often asked before it starts. */
  private void signalWork(String userId) {
    if (signalled.add(userId) && !submitWork(userId, () -> {
      signalled.remove(userId);
      process(userId);
    })) {
      signalled.remove(userId); // full or stopped: the poller will find the work in the database
    }
  }

  private void signalProgress() {
    idleLock.lock();
    try {
      progress.signalAll();
    } finally {
      idleLock.unlock();
    }
  }

  /** Finds users with due work in the database (retries, pauses, leftovers) and queues them. */
  private void poll() {
    if (stopped) {
      return;
    }
    try {
      for (String userId : outbox.dueUsers(clock.millis(), 100)) {
        signalWork(userId);
      }
    } catch (RuntimeException e) {
      log.warn("learner: polling the outbox failed: {}", e.getMessage());
    }
  }

  // ---------------------------------------------------------------- turns

  private void acceptTurn(String userId, String sessionId, String payload) {
    long now = clock.millis();
    outbox.insert(Outbox.TURN, userId, sessionId, payload, now + config.pauseDelay().toMillis(), now);
    turnsAccepted.incrementAndGet();
    if (sessionId == null) {
      return;
    }
    SessionBatch batch = sessions.computeIfAbsent(sessionId, k -> new SessionBatch());
    synchronized (batch) {
      batch.waiting++;
      if (batch.pauseTimer != null) {
        batch.pauseTimer.cancel(false);
        batch.pauseTimer = null;
      }
      if (batch.waiting < config.batchTurns()) {
        // The pause trigger: a timer, restarted by every turn.
        if (!stopped) {
          batch.pauseTimer = timers.schedule(() -> submitAccept(userId, () -> {
            flushSession(sessionId, clock.millis());
            signalWork(userId);
          }), config.pauseDelay().toMillis(), TimeUnit.MILLISECONDS);
        }
        return;
      }
    }
    flushSession(sessionId, now);
    signalWork(userId);
  }

  private void flushSession(String sessionId, long now) {
    SessionBatch batch = sessions.get(sessionId);
    if (batch != null) {
      synchronized (batch) {
        batch.waiting = 0;
        if (batch.pauseTimer != null) {
          batch.pauseTimer.cancel(false);
          batch.pauseTimer = null;
        }
      }
    }
    outbox.makeSessionDue(sessionId, now);
  }

  /** Does the user's due work; runs on the user's strand. */
  private void process(String userId) {
    long now = clock.millis();
    List<Outbox.Row> rows;
    try {
      rows = outbox.claim(userId, owner, now, now + config.lease().toMillis());
    } catch (MemoryException e) {
      log.warn("learner: cannot claim work of user {}: {}", userId, e.getMessage());
      return; // the poller tries again
    }
    if (rows.isEmpty()) {
      return;
    }
    try {
      List<Outbox.Row> turns = rows.stream().filter(r -> r.kind().equals(Outbox.TURN)).toList();
      boolean turnsDue = draining || turns.stream().anyMatch(r -> r.dueAt() <= now);
      if (turnsDue) {
        for (int from = 0; from < turns.size(); from += config.maxBatchTurns()) {
          if (!extract(userId, turns.subList(from, Math.min(turns.size(), from + config.maxBatchTurns())))) {
            break; // failed: retried later, in order
          }
        }
      }
      for (Outbox.Row r : rows) {
        if (r.kind().equals(Outbox.PROFILE) && (draining || r.dueAt() <= clock.millis())) {
          refreshProfile(userId, r);
        }
      }
    } finally {
      try {
        if (!abandoned) {
          outbox.release(userId, owner);
        }
      } catch (MemoryException e) {
        log.warn("learner: cannot release work of user {} (its lease will expire): {}", userId, e.getMessage());
      }
    }
  }

  /** One extraction call over {@code turns}; true if they are done (stored or given up as unparseable). */
  private boolean extract(String userId, List<Outbox.Row> turns) {
    StringBuilder transcript = new StringBuilder();
    for (Outbox.Row r : turns) {
      JsonNode t = readJson(r.payload());
      transcript.append("USER: ").append(t.path("user").asText().replace('\n', ' ')).append('\n');
      String said = t.path("assistant").asText();
      if (!said.isBlank()) {
        transcript.append("ASSISTANT: ").append(said.replace('\n', ' ')).append('\n');
      }
    }
    String system = Prompts.EXTRACT_MARKER + "\n" + Prompts.EXTRACT.formatted(String.join(", ", memory.categories().names()));
    ChatRequest request = ChatRequest.builder()
        .messages(SystemMessage.from(system), UserMessage.from(transcript.toString()))
        .responseFormat(ResponseFormat.JSON)
        .build();
    String answer;
    long start = System.nanoTime();
    try {
      extractionCalls.incrementAndGet();
      answer = llm.chat(request).aiMessage().text();
      metrics.llmCall("extract", Duration.ofNanos(System.nanoTime() - start), true);
    } catch (RuntimeException e) {
      metrics.llmCall("extract", Duration.ofNanos(System.nanoTime() - start), false);
      return failed(userId, turns, "extraction LLM call", e);
    }
    if (abandoned) {
      return false;
    }
    List<JsonNode> operations;
    try {
      operations = parseOperations(answer);
    } catch (IllegalArgumentException e) {
      int attempts = turns.stream().mapToInt(Outbox.Row::attempts).max().orElse(0);
      if (attempts + 1 >= MAX_PARSE_FAILURES) {
        // The model keeps answering something that is not the JSON asked for: retrying will not help.
        log.warn("learner: giving up on {} turns of user {} after {} unparseable extractions: {}",
            turns.size(), userId, attempts + 1, e.getMessage());
        turnsUnparseable.addAndGet(turns.size());
        outbox.delete(turns);
        metrics.learning("extraction.unparseable");
        return true;
      }
      return failed(userId, turns, "extraction output", e);
    }
    List<Memory> added = new ArrayList<>();
    List<Memory> updated = new ArrayList<>();
    List<UUID> deleted = new ArrayList<>();
    try {
      for (JsonNode op : operations) {
        apply(userId, op, added, updated, deleted);
      }
      outbox.delete(turns);
    } catch (MemoryException e) {
      // Memories saved before the failure are saved again on retry and come back UNCHANGED.
      return failed(userId, turns, "storing extracted memories", e);
    }
    int changed = added.size() + updated.size() + deleted.size();
    if (changed > 0) {
      announce(new Learned(userId, List.copyOf(added), List.copyOf(updated), List.copyOf(deleted), null));
    }
    turnsExtracted.addAndGet(turns.size());
    memoriesChanged.addAndGet(changed);
    metrics.learning("extraction.ok");
    log.debug("learner: user {}: {} turns -> {} operations, {} memories changed", userId, turns.size(), operations.size(), changed);
    if (changed > 0) {
      requestProfile(userId, changed + " memories changed by extraction", changed);
    }
    return true;
  }

  /** Applies one extracted operation, noting what changed. Invalid operations are skipped. */
  private void apply(String userId, JsonNode op, List<Memory> added, List<Memory> updated, List<UUID> deleted) {
    String content = op.path("content").asText("").strip();
    String category = op.path("category").asText("FACT");
    String operation = op.path("operation").asText("ADD").toUpperCase(Locale.ROOT);
    if (content.isEmpty()) {
      return;
    }
    try {
      if (operation.equals("DELETE")) {
        List<Memory> match = memory.search(userId, content, List.of(), 1);
        if (!match.isEmpty() && memory.forget(userId, match.getFirst().id()).isPresent()) {
          deleted.add(match.getFirst().id());
        }
        return;
      }
      MemoryAccess.Saved saved = memory.save(userId, category, content);
      switch (saved.outcome()) {
        case ADDED -> added.add(saved.memory());
        case UPDATED -> updated.add(saved.memory());
        case UNCHANGED -> { }
      }
    } catch (MemoryException e) {
      if (e.isRetriable()) {
        throw e;
      }
      log.debug("learner: skipping an invalid extracted memory for user {}: {}", userId, e.getMessage());
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

  static List<JsonNode> parseOperations(String answer) {
    if (answer == null) {
      throw new IllegalArgumentException("empty answer");
    }
    String text = answer.strip();
    int open = text.indexOf('{');
    int close = text.lastIndexOf('}');
    if (open < 0 || close < open) {
      throw new IllegalArgumentException("no JSON object in: " + abbreviate(text));
    }
    JsonNode root = readJson(text.substring(open, close + 1));
    JsonNode list = root.path("memories");
    if (!list.isArray()) {
      throw new IllegalArgumentException("no \"memories\" array in: " + abbreviate(text));
    }
    List<JsonNode> ops = new ArrayList<>();
    list.forEach(ops::add);
    return ops;
  }

  // ---------------------------------------------------------------- profile

  /** Coalesces a change into the user's pending refresh, or creates one (debounced and rate-limited). */
  private void requestProfile(String userId, String reason, int changes) {
    long now = clock.millis();
    Outbox.Row pending = outbox.profileRow(userId);
    if (pending != null) {
      ObjectNode payload = (ObjectNode) readJson(pending.payload());
      payload.put("changes", payload.path("changes").asInt() + changes);
      ArrayNode reasons = payload.withArray("reasons");
      if (reasons.size() < MAX_REASONS) {
        reasons.add(reason);
      }
      outbox.updatePayload(pending, payload.toString());
      // Trailing debounce: the refresh waits until changes have stopped arriving for a while.
      long due = Math.max(pending.dueAt(), now + config.profileDebounce().toMillis());
      if (due != pending.dueAt()) {
        outbox.postpone(pending, due);
      }
      decide(userId, RefreshDecision.Action.COALESCED, reason + " joined a pending refresh");
      return;
    }
    long due = Math.max(now + config.profileDebounce().toMillis(), lastRefresh(userId) + config.profileMinInterval().toMillis());
    ObjectNode payload = JSON.createObjectNode();
    payload.put("changes", changes);
    payload.putArray("reasons").add(reason);
    outbox.insert(Outbox.PROFILE, userId, null, payload.toString(), due, now);
  }

  private long lastRefresh(String userId) {
    Long last = lastRefresh.get(userId);
    if (last != null) {
      return last;
    }
    return Long.MIN_VALUE / 2; // unknown in this process: the debounce alone applies
  }

  private void refreshProfile(String userId, Outbox.Row row) {
    long now = clock.millis();
    JsonNode payload = readJson(row.payload());
    String why = payload.path("changes").asInt() + " changes: " + payload.path("reasons").toString();
    long earliest = lastRefresh(userId) + config.profileMinInterval().toMillis();
    if (!draining && now < earliest) {
      outbox.postpone(row, earliest);
      decide(userId, RefreshDecision.Action.POSTPONED, why + "; last refresh too recent, due in " + (earliest - now) + " ms");
      return;
    }
    String text;
    Profile before;
    long start = System.nanoTime();
    try {
      before = memory.profile(userId);
      Snapshot snapshot = memory.snapshot(userId);
      StringBuilder context = new StringBuilder("Current profile: ")
          .append(before.exists() ? before.content() : "(none)").append("\nMemories:\n");
      for (Map.Entry<String, List<Memory>> e : snapshot.memories().entrySet()) {
        for (Memory m : e.getValue()) {
          context.append("- [").append(e.getKey()).append("] ").append(m.content()).append('\n');
        }
      }
      profileCalls.incrementAndGet();
      text = llm.chat(ChatRequest.builder()
          .messages(SystemMessage.from(Prompts.PROFILE_MARKER + "\n" + Prompts.PROFILE), UserMessage.from(context.toString()))
          .build()).aiMessage().text();
      metrics.llmCall("profile", Duration.ofNanos(System.nanoTime() - start), true);
    } catch (RuntimeException e) {
      metrics.llmCall("profile", Duration.ofNanos(System.nanoTime() - start), false);
      failed(userId, List.of(row), "profile refresh", e);
      decide(userId, RefreshDecision.Action.FAILED, why + "; " + e.getMessage());
      return;
    }
    text = text == null ? "" : text.strip();
    double similarity = before.exists() ? similarity(before.content(), text) : 0;
    try {
      if (text.isEmpty() || (before.exists() && similarity >= config.profileSimilarity())) {
        outbox.delete(List.of(row));
        lastRefresh.put(userId, now);
        decide(userId, RefreshDecision.Action.UNCHANGED, why + String.format(Locale.ROOT,
            "; not saved: similarity %.2f >= %.2f", similarity, config.profileSimilarity()));
        profilesUnchanged.incrementAndGet(); // after the decision is recorded: stats never run ahead of it
        return;
      }
      Profile saved = memory.putProfile(userId, text, before.version());
      outbox.delete(List.of(row));
      announce(new Learned(userId, List.of(), List.of(), List.of(), saved));
      lastRefresh.put(userId, now);
      decide(userId, RefreshDecision.Action.SAVED, why + String.format(Locale.ROOT, "; saved (similarity %.2f)", similarity));
      profilesSaved.incrementAndGet();
    } catch (ConflictException e) {
      failed(userId, List.of(row), "saving the profile (changed meanwhile)", e);
      decide(userId, RefreshDecision.Action.FAILED, why + "; the profile changed meanwhile, retrying");
    } catch (MemoryException e) {
      failed(userId, List.of(row), "saving the profile", e);
      decide(userId, RefreshDecision.Action.FAILED, why + "; " + e.getMessage());
    }
  }

  /** Word-set overlap (Jaccard) of two texts, 0..1. */
  static double similarity(String a, String b) {
    Set<String> x = words(a);
    Set<String> y = words(b);
    if (x.isEmpty() && y.isEmpty()) {
      return 1;
    }
    Set<String> both = new HashSet<>(x);
    both.retainAll(y);
    return (double) both.size() / (x.size() + y.size() - both.size());
  }

  private static Set<String> words(String text) {
    Set<String> words = new HashSet<>();
    for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
      if (!w.isEmpty()) {
        words.add(w);
      }
    }
    return words;
  }

  private void decide(String userId, RefreshDecision.Action action, String reason) {
    RefreshDecision d = new RefreshDecision(userId, action, reason, Instant.ofEpochMilli(clock.millis()));
    synchronized (decisions) {
      decisions.addLast(d);
      while (decisions.size() > MAX_DECISIONS) {
        decisions.removeFirst();
      }
    }
    metrics.learning("profile." + action.name().toLowerCase(Locale.ROOT));
    log.debug("learner: profile of {}: {} ({})", userId, action, reason);
    for (Consumer<RefreshDecision> l : listeners) {
      try {
        l.accept(d);
      } catch (RuntimeException e) {
        log.warn("learner: a decision listener failed: {}", e.toString());
      }
    }
  }

  // ---------------------------------------------------------------- retries

  /** Leaves the rows for a later attempt with exponential backoff; always returns false. */
  private boolean failed(String userId, List<Outbox.Row> rows, String what, RuntimeException error) {
    if (abandoned) {
      return false;
    }
    failures.incrementAndGet();
    metrics.learning("failure");
    int attempts = rows.stream().mapToInt(Outbox.Row::attempts).max().orElse(0);
    long delay = Math.min(config.retryMax().toMillis(), config.retryBase().toMillis() << Math.min(20, attempts));
    try {
      outbox.retryLater(rows, clock.millis() + delay, error.toString());
    } catch (MemoryException e) {
      log.warn("learner: cannot record the failure for user {} (the work stays due): {}", userId, e.getMessage());
    }
    if (Llm.isRetriable(error)) {
      // The LLM is failing: its outage log says so once per change of state, not once per retry.
      log.debug("learner: {} for user {} failed (attempt {}); retrying in {} ms: {}", what, userId, attempts + 1, delay, error.toString());
    } else {
      log.warn("learner: {} for user {} failed (attempt {}); retrying in {} ms: {}", what, userId, attempts + 1, delay, error.toString());
    }
    return false;
  }

  private static JsonNode readJson(String text) {
    try {
      return JSON.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + abbreviate(text), e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 120) + "...";
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

    /** Where the outbox table lives: the memory store's database ({@code JdbcMemoryStore.dataSource()}). */
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
     * Migrates the outbox table, then starts: work left in the outbox by an earlier run is
     * picked up by the first poll.
     *
     * @throws IllegalStateException if something required is missing
     */
    public Learner build() {
      if (dataSource == null || memory == null || llm == null) {
        throw new IllegalStateException("dataSource, memory and llm are required: Learner.builder().dataSource(...).memory(...).llm(...)");
      }
      return new Learner(this);
    }
  }
}
