package dev.yaad.agent.learning;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.yaad.agent.AgentMetrics;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.Prompts;
import dev.yaad.agent.memory.MemoryAccess;
import dev.yaad.memory.ConflictException;
import dev.yaad.memory.MemoryException;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Profile refresh, asked for by memory changes only, never by message count. A request is
 * debounced (the refresh runs once no change has arrived for
 * {@link LearningConfig#profileDebounce()}), rate-limited per user
 * ({@link LearningConfig#profileMinInterval()}) and coalesced (one pending refresh per user, a
 * PROFILE row in the outbox, collects every reason); the refresh runs on the user's strand and
 * saves the new profile only if it is meaningfully different
 * ({@link LearningConfig#profileSimilarity()}, word overlap). Every decision is reported as a
 * {@link RefreshDecision} and the latest {@value #MAX_DECISIONS} are kept.
 */
final class ProfileRefresher {
  private static final Logger log = LoggerFactory.getLogger(ProfileRefresher.class);
  private static final int MAX_REASONS = 10;
  static final int MAX_DECISIONS = 200;

  private final MemoryAccess memory;
  private final Llm llm;
  private final LlmPermits permits;
  private final Outbox outbox;
  private final LearningConfig config;
  private final Clock clock;
  private final Retries retries;
  private final Counters counters;
  private final AgentMetrics metrics;
  private final Consumer<Learned> announce;
  private final Map<String, Long> lastRefresh = new ConcurrentHashMap<>();
  private final List<Consumer<RefreshDecision>> listeners = new CopyOnWriteArrayList<>();
  private final Deque<RefreshDecision> decisions = new ArrayDeque<>();

  ProfileRefresher(MemoryAccess memory, Llm llm, LlmPermits permits, Outbox outbox, LearningConfig config, Clock clock, Retries retries,
      Counters counters, AgentMetrics metrics, Consumer<Learned> announce) {
    this.memory = memory;
    this.llm = llm;
    this.permits = permits;
    this.outbox = outbox;
    this.config = config;
    this.clock = clock;
    this.retries = retries;
    this.counters = counters;
    this.metrics = metrics;
    this.announce = announce;
  }

  void addListener(Consumer<RefreshDecision> listener) {
    listeners.add(listener);
  }

  /** The latest decisions, oldest first. */
  List<RefreshDecision> recentDecisions() {
    synchronized (decisions) {
      return List.copyOf(decisions);
    }
  }

  /** Coalesces a change into the user's pending refresh, or creates one (debounced and rate-limited). */
  void request(String userId, String reason, int changes) {
    request(userId, List.of(reason), changes);
  }

  /** As {@link #request(String, String, int)}, for changes that were gathered while waiting for room. */
  void request(String userId, List<String> reasons, int changes) {
    long now = clock.millis();
    String said = String.join("; ", reasons);
    Outbox.Row pending = outbox.profileRow(userId);
    if (pending != null) {
      ObjectNode payload = (ObjectNode) Outbox.readJson(pending.payload());
      payload.put("changes", payload.path("changes").asInt() + changes);
      ArrayNode kept = payload.withArray("reasons");
      for (String reason : reasons) {
        if (kept.size() < MAX_REASONS) {
          kept.add(reason);
        }
      }
      outbox.updatePayload(pending, payload.toString());
      // Trailing debounce: the refresh waits until changes have stopped arriving for a while.
      long due = Math.max(pending.dueAt(), now + config.profileDebounce().toMillis());
      if (due != pending.dueAt()) {
        outbox.postpone(pending, due);
      }
      decide(userId, RefreshDecision.Action.COALESCED, said + " joined a pending refresh");
      return;
    }
    long due = Math.max(now + config.profileDebounce().toMillis(), lastRefresh(userId) + config.profileMinInterval().toMillis());
    ObjectNode payload = Outbox.JSON.createObjectNode();
    payload.put("changes", changes);
    ArrayNode kept = payload.putArray("reasons");
    reasons.stream().limit(MAX_REASONS).forEach(kept::add);
    outbox.insert(Outbox.PROFILE, userId, null, payload.toString(), due, now);
  }

  /**
   * Runs the refresh {@code row} asks for, unless the last one was too recent.
   *
   * @param draining ignore the rate limit: everything waiting is to be done now
   */
  void refresh(String userId, Outbox.Row row, boolean draining) {
    long now = clock.millis();
    JsonNode payload = Outbox.readJson(row.payload());
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
      counters.profileCalls.incrementAndGet();
      ChatRequest request = ChatRequest.builder().messages(Prompts.profile(before, snapshot)).build();
      text = permits.call(() -> llm.chat(request)).aiMessage().text();
      metrics.llmCall("profile", Duration.ofNanos(System.nanoTime() - start), true);
    } catch (RuntimeException e) {
      metrics.llmCall("profile", Duration.ofNanos(System.nanoTime() - start), false);
      retries.failed(userId, List.of(row), "profile refresh", e);
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
        counters.profilesUnchanged.incrementAndGet(); // after the decision is recorded: stats never run ahead of it
        return;
      }
      Profile saved = memory.putProfile(userId, text, before.version(), Instant.ofEpochMilli(row.createdAt()));
      outbox.delete(List.of(row));
      announce.accept(new Learned(userId, List.of(), List.of(), List.of(), saved));
      lastRefresh.put(userId, now);
      decide(userId, RefreshDecision.Action.SAVED, why + String.format(Locale.ROOT, "; saved (similarity %.2f)", similarity));
      counters.profilesSaved.incrementAndGet();
    } catch (ConflictException e) {
      retries.failed(userId, List.of(row), "saving the profile (changed meanwhile)", e);
      decide(userId, RefreshDecision.Action.FAILED, why + "; the profile changed meanwhile, retrying");
    } catch (MemoryException e) {
      retries.failed(userId, List.of(row), "saving the profile", e);
      decide(userId, RefreshDecision.Action.FAILED, why + "; " + e.getMessage());
    }
  }

  private long lastRefresh(String userId) {
    Long last = lastRefresh.get(userId);
    if (last != null) {
      return last;
    }
    return Long.MIN_VALUE / 2; // unknown in this process: the debounce alone applies
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
}
