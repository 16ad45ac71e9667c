package dev.yaad.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MicrometerAgentMetricsTest {
  @Test
  void recordsUnderYaadAgentNames() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    AgentMetrics metrics = new MicrometerAgentMetrics(registry);
    metrics.greetingFirstToken(Duration.ofMillis(12));
    metrics.toolCall("searchMemories", Duration.ofMillis(3), true);
    metrics.speechEnded(Speech.Kind.GREETING, Speech.Outcome.CANCELLED);
    metrics.learning("profile.saved");
    assertThat(registry.get("yaad.agent.greeting.first_token").timer().count()).isEqualTo(1);
    assertThat(registry.get("yaad.agent.tool").tag("tool", "searchMemories").tag("ok", "true").timer().count()).isEqualTo(1);
    assertThat(registry.get("yaad.agent.speech").tag("kind", "greeting").tag("outcome", "cancelled").counter().count()).isEqualTo(1);
    assertThat(registry.get("yaad.agent.learning").tag("event", "profile.saved").counter().count()).isEqualTo(1);
  }
}
