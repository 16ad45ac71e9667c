package dev.yaad.agent;

import dev.yaad.agent.learning.Learner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;

/**
 * {@link AgentMetrics} on a Micrometer registry; meter names start with {@code yaad.agent.}.
 * Latencies someone puts a percentile on (first tokens, LLM calls, tools) publish histogram
 * buckets, so they aggregate across instances. {@link #monitor(AgentRuntime)} adds the gauges
 * that read live objects (open sessions, the learning queue).
 */
public final class MicrometerAgentMetrics implements AgentMetrics {
  private final MeterRegistry registry;
  private final Timer greetingFirstToken;
  private final Timer replyFirstToken;
  private final Timer replyDuration;

  public MicrometerAgentMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.greetingFirstToken = Timer.builder("yaad.agent.greeting.first_token")
        .description("connection ready to first greeting token").publishPercentileHistogram().register(registry);
    this.replyFirstToken = Timer.builder("yaad.agent.reply.first_token")
        .description("user text to first reply token").publishPercentileHistogram().register(registry);
    this.replyDuration = Timer.builder("yaad.agent.reply.duration")
        .description("user text to the end of the reply: a turn end to end").publishPercentileHistogram().register(registry);
  }

  /**
   * Gauges on {@code runtime}: {@code yaad.agent.sessions.active} (sessions not yet closed)
   * and, if it learns, {@code yaad.agent.learning.queue} (tasks waiting in memory),
   * {@code yaad.agent.learning.held} and {@code .held.bytes} (turns held while the database
   * cannot take them), {@code yaad.agent.learning.outbox} (rows waiting in the database: one
   * count query per scrape), {@code yaad.agent.learning.lag} (seconds: the age of the oldest
   * turn not yet learned, as of the learner's last poll) and
   * {@code yaad.agent.learning.llm.in_flight} and {@code yaad.agent.learning.llm.limit}. The registry holds gauges weakly: the runtime
   * must stay referenced, as it does while it runs.
   */
  public MicrometerAgentMetrics monitor(AgentRuntime runtime) {
    Gauge.builder("yaad.agent.sessions.active", runtime, AgentRuntime::openSessions)
        .description("sessions open (connecting or active)").register(registry);
    runtime.learner().ifPresent(learner -> {
      Gauge.builder("yaad.agent.learning.queue", learner, Learner::queueDepth)
          .description("background learning tasks waiting in memory").register(registry);
      Gauge.builder("yaad.agent.learning.outbox", learner, MicrometerAgentMetrics::outboxRows)
          .description("turns and profile refreshes waiting in the outbox table").register(registry);
      Gauge.builder("yaad.agent.learning.lag", learner, Learner::lagSeconds).baseUnit("seconds")
          .description("age of the oldest turn not yet learned (0 when none waits)").register(registry);
      Gauge.builder("yaad.agent.learning.llm.in_flight", learner, Learner::llmCallsInFlight)
          .description("background LLM calls running (bounded by yaad.agent.learning.llm.limit)").register(registry);
      Gauge.builder("yaad.agent.learning.llm.limit", learner, Learner::llmCallsLimit)
          .description("background LLM calls allowed at once now (adapts up to the learning LLM concurrency)").register(registry);
      Gauge.builder("yaad.agent.learning.held", learner, Learner::heldTurns)
          .description("finished turns held in memory while the database cannot take them").register(registry);
      Gauge.builder("yaad.agent.learning.held.bytes", learner, Learner::heldTurnBytes).baseUnit("bytes")
          .description("bytes of the turns held in memory (bounded by --learning-buffer-bytes)").register(registry);
    });
    return this;
  }

  private static double outboxRows(Learner learner) {
    try {
      return learner.pending();
    } catch (RuntimeException e) {
      return Double.NaN; // the database is down: /ready says so
    }
  }

  @Override
  public void sessionStateChanged(SessionState from, SessionState to) {
    registry.counter("yaad.agent.session.transitions", "to", to.name().toLowerCase(Locale.ROOT)).increment();
  }

  @Override
  public void greetingFirstToken(Duration sinceReady) {
    greetingFirstToken.record(sinceReady);
  }

  @Override
  public void replyFirstToken(Duration sinceUserText) {
    replyFirstToken.record(sinceUserText);
  }

  @Override
  public void speechEnded(Speech.Kind kind, Speech.Outcome outcome) {
    registry.counter("yaad.agent.speech", "kind", kind.name().toLowerCase(Locale.ROOT),
        "outcome", outcome.name().toLowerCase(Locale.ROOT)).increment();
    if (kind == Speech.Kind.GREETING) {
      String result = switch (outcome) {
        case COMPLETED -> "sent";
        case INTERRUPTED -> "interrupted";
        case CANCELLED -> "cancelled";
        case FAILED -> "failed";
      };
      Counter.builder("yaad.agent.greetings").description("greetings by how they ended").tag("outcome", result)
          .register(registry).increment();
    }
  }

  /** Also times replies end to end ({@code yaad.agent.reply.duration}: user text to the reply's end, however it ended). */
  @Override
  public void speechEnded(Speech.Kind kind, Speech.Outcome outcome, Duration duration) {
    speechEnded(kind, outcome);
    if (kind == Speech.Kind.REPLY && duration != null) {
      replyDuration.record(duration);
    }
  }

  @Override
  public void toolCall(String tool, Duration latency, boolean ok) {
    Timer.builder("yaad.agent.tool").description("memory tool calls").tag("tool", tool).tag("ok", Boolean.toString(ok))
        .publishPercentileHistogram().register(registry).record(latency);
  }

  @Override
  public void llmCall(String purpose, Duration latency, boolean ok) {
    Timer.builder("yaad.agent.llm.duration").description("LLM calls, start to end (streamed: to the last token)")
        .tag("purpose", purpose).tag("ok", Boolean.toString(ok)).publishPercentileHistogram().register(registry)
        .record(latency);
  }

  @Override
  public void learning(String event) {
    registry.counter("yaad.agent.learning", "event", event).increment();
    if (event.startsWith("profile.")) {
      // The decision of each profile refresh asked for by memory changes: saved, unchanged, postponed, coalesced, failed.
      registry.counter("yaad.agent.profile.refreshes", "decision", event.substring("profile.".length())).increment();
    }
  }
}
