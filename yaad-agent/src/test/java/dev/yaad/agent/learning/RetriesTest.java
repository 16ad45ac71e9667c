package dev.yaad.agent.learning;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.yaad.agent.AgentMetrics;
import dev.yaad.memory.Memories;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A failure is one WARN line; the interrupted tasks of a stopping learner are not (a load
 * run's shutdown wrote two or three WARN lines for each of dozens of tasks in flight).
 */
class RetriesTest {
  @TempDir Path dir;

  @Test
  void aFailure_isOneWarn_butTheInterruptedWorkOfAStoppingLearner_isQuiet() {
    Logger logger = (Logger) LoggerFactory.getLogger(Retries.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    AtomicBoolean stopping = new AtomicBoolean();
    try (Memories store = Memories.builder().store(TestStores.h2(dir)).build()) {
      Retries retries = new Retries(Outbox.open(store.dataSource()), LearningConfig.defaults(), Clock.systemUTC(),
          new Counters(), AgentMetrics.NONE, stopping::get);
      Outbox.Row row = new Outbox.Row(1, Outbox.PROFILE, "u1", null, "{}", 0, 0, 0);
      RuntimeException interrupted = new RuntimeException("Interrupted during action execution");

      retries.failed("u1", List.of(row), "profile refresh", interrupted);
      assertThat(warnings(lines)).hasSize(1);

      stopping.set(true);
      retries.failed("u1", List.of(row), "profile refresh", interrupted);
      assertThat(warnings(lines)).hasSize(1);
    } finally {
      logger.detachAppender(lines);
    }
  }

  private static List<ILoggingEvent> warnings(ListAppender<ILoggingEvent> lines) {
    return lines.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).toList();
  }
}
