package dev.yaad.agent;

import dev.yaad.agent.learning.Learner;
import dev.yaad.agent.learning.LearningSink;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.memory.MemoryAccess;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's front door: opens {@link Session}s for callers and owns what they share (the
 * LLM, the memory port, worker threads, background learning).
 *
 * {@snippet :
 * Memories memories = Memories.builder().jdbcUrl(jdbcUrl).build();
 * MemoryAccess memory = new MemoriesAccess(memories);            // the port; see "Memory" below
 * Llm llm = Llm.openAiCompatible(LlmConfig.fromEnv(environment)); // YAAD_LLM_BASE_URL, YAAD_LLM_API_KEY, YAAD_LLM_MODEL
 * Learner learner = Learner.builder()
 *     .dataSource(memories.dataSource()).memory(memory).llm(llm)  // the outbox table is in the memory schema
 *     .build();
 * AgentRuntime runtime = AgentRuntime.builder().memory(memory).llm(llm).learner(learner).build();
 *
 * Session session = runtime.open("ali", listener);  // CONNECTING: the snapshot starts loading now
 * session.language("ur-PK");                         // optional
 * session.ready();                                   // the caller's connection is up: ACTIVE, greets
 * session.reply("I start my new job on Monday", "t-1");
 * session.close();                                   // the caller left: CLOSING → CLOSED
 * }
 *
 * <p>Thread-safe. {@link #close()} closes every open session, then the learner; the
 * {@link Llm} and the memory port belong to the caller.
 */
public final class AgentRuntime implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentRuntime.class);

  private final AgentConfig config;
  private final Learner learner;
  /**
   * Sessions' blocking work (snapshot loads, memory tools). Platform threads, not virtual: a tool
   * embeds in native code (ONNX), which would hold one of the few carrier threads every virtual
   * thread runs on (as many as cores), stalling every other session's streaming meanwhile.
   */
  private final ExecutorService work = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("yaad-session-work-", 0).factory());
  private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
  private final SessionContext sessionContext;

  private AgentRuntime(Builder b) {
    this.config = b.config;
    this.learner = b.learner;
    this.sessionContext = new SessionContext(config, b.llm, b.memory, b.metrics, work,
        learner == null ? LearningSink.NONE : learner, session -> sessions.remove(session.id()));
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Opens a session for {@code userId} ({@code CONNECTING}) and starts loading the user's
   * snapshot. Call {@link Session#ready()} when the caller's connection is ready.
   *
   * @param listeners registered before anything happens, so they see every event
   * @throws IllegalArgumentException if the user id is blank
   * @throws IllegalStateException if the runtime is closed
   */
  public Session open(String userId, SessionListener... listeners) {
    if (userId == null || userId.isBlank()) {
      throw new IllegalArgumentException("userId must not be blank");
    }
    if (work.isShutdown()) {
      throw new IllegalStateException("the agent runtime is closed; open sessions on a new one");
    }
    Session session = new Session(sessionContext, UUID.randomUUID().toString(), userId, List.of(listeners));
    sessions.put(session.id(), session);
    return session;
  }

  /** Sessions not yet closed. */
  public int openSessions() {
    return sessions.size();
  }

  public Optional<Learner> learner() {
    return Optional.ofNullable(learner);
  }

  public AgentConfig config() {
    return config;
  }

  @Override
  public void close() {
    for (Session s : new ArrayList<>(sessions.values())) {
      s.close();
    }
    work.shutdownNow();
    if (learner != null) {
      learner.close();
    }
    log.info("agent: closed");
  }

  /** Configures an {@link AgentRuntime}; {@code memory} and {@code llm} are required. */
  public static final class Builder {
    private MemoryAccess memory;
    private Llm llm;
    private AgentConfig config = AgentConfig.defaults();
    private AgentMetrics metrics = AgentMetrics.NONE;
    private Learner learner;

    private Builder() {}

    public Builder memory(MemoryAccess memory) {
      this.memory = Objects.requireNonNull(memory, "memory");
      return this;
    }

    public Builder llm(Llm llm) {
      this.llm = Objects.requireNonNull(llm, "llm");
      return this;
    }

    public Builder config(AgentConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    public Builder metrics(AgentMetrics metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    /** Background learning; the runtime takes ownership and closes it. Without one, nothing is learned. */
    public Builder learner(Learner learner) {
      this.learner = Objects.requireNonNull(learner, "learner");
      return this;
    }

    /** @throws IllegalStateException if memory or llm is missing */
    public AgentRuntime build() {
      if (memory == null) {
        throw new IllegalStateException("memory is required: AgentRuntime.builder().memory(...)");
      }
      if (llm == null) {
        throw new IllegalStateException("llm is required: AgentRuntime.builder().llm(...)");
      }
      log.info("agent: ready (history {} turns, {} tool rounds, greet on ready: {}, learning: {})",
          config.historyTurns(), config.maxToolRounds(), config.greetOnReady(), learner == null ? "off" : "on");
      return new AgentRuntime(this);
    }
  }
}
