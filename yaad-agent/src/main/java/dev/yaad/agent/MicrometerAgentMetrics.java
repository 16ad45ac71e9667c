package dev.yaad.agent;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;

/** {@link AgentMetrics} on a Micrometer registry; meter names start with {@code yaad.agent.}. */
public final class MicrometerAgentMetrics implements AgentMetrics {
  private final MeterRegistry registry;
  private final Timer greetingFirstToken;
  private final Timer replyFirstToken;

  public MicrometerAgentMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.greetingFirstToken = Timer.builder("yaad.agent.greeting.first_token")
        .description("connection ready to first greeting token").publishPercentiles(0.5, 0.99).register(registry);
    this.replyFirstToken = Timer.builder("yaad.agent.reply.first_token")
        .description("user text to first reply token").publishPercentiles(0.5, 0.99).register(registry);
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
  }

  @Override
  public void toolCall(String tool, Duration latency, boolean ok) {
    registry.timer("yaad.agent.tool", "tool", tool, "ok", Boolean.toString(ok)).record(latency);
  }

  @Override
  public void llmCall(String purpose, Duration latency, boolean ok) {
    registry.timer("yaad.agent.llm", "purpose", purpose, "ok", Boolean.toString(ok)).record(latency);
  }

  @Override
  public void learning(String event) {
    registry.counter("yaad.agent.learning", "event", event).increment();
  }
}
