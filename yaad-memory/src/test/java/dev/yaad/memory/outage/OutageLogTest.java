package dev.yaad.memory.outage;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class OutageLogTest {

  @Test
  void anOutage_isOneLineDown_remindersWithACount_andOneLineBackUp() {
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    AtomicLong now = new AtomicLong();
    OutageLog outage = outageLoggingTo(lines, now);

    outage.succeeded(); // up and answering: nothing to say
    for (int i = 0; i < 10; i++) {
      now.addAndGet(1_000_000_000L); // a failure a second
      outage.failed(new RuntimeException("wrapped", new ConnectException("Connection refused")));
    }
    assertThat(lines.list).hasSize(1);
    now.addAndGet(60_000_000_000L);
    outage.failed(new ConnectException("Connection refused"));
    now.addAndGet(5_000_000_000L);
    outage.succeeded();
    outage.succeeded();

    assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
        "llm: localhost:11434 is down (ConnectException: Connection refused); calls fail until it answers",
        "llm: localhost:11434 is still down: 11 failed calls in 69 s (last: ConnectException: Connection refused)",
        "llm: localhost:11434 is back up after 11 failed calls in 74 s");
    assertThat(lines.list).allSatisfy(e -> assertThat(e.getThrowableProxy()).as("no stack trace").isNull());
    assertThat(outage.isDown()).isFalse();
  }

  @Test
  void anOverloadedProviderThatAnswersSomeCalls_isOneUnsteadyOutage_notALinePerFlip() {
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    AtomicLong now = new AtomicLong();
    OutageLog outage = outageLoggingTo(lines, now);

    for (int i = 0; i < 700; i++) { // 70 s of calls 100 ms apart, every other one timing out
      now.addAndGet(100_000_000L);
      if (i % 2 == 0) {
        outage.failed(new TimeoutException("no first token within 3000 ms"));
      } else {
        outage.succeeded();
      }
    }
    now.addAndGet(10_000_000_000L);
    outage.succeeded();

    assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
        "llm: localhost:11434 is down (TimeoutException: no first token within 3000 ms); calls fail until it answers",
        "llm: localhost:11434 is back up after 1 failed calls in 0 s", // the first answer: it looked back
        "llm: localhost:11434 is still down: 301 failed calls and 300 answered in 60 s (last: TimeoutException: no first token within 3000 ms)",
        "llm: localhost:11434 is back up after 349 failed calls in 80 s");
  }

  /** An outage log on a clock of the test's, whose lines go to {@code lines} only. */
  private static OutageLog outageLoggingTo(ListAppender<ILoggingEvent> lines, AtomicLong now) {
    Logger logger = (Logger) LoggerFactory.getLogger("outage-test-" + System.nanoTime());
    lines.start();
    logger.addAppender(lines);
    logger.setAdditive(false);
    return new OutageLog(logger, "llm", URI.create("http://localhost:11434/v1"), Duration.ofSeconds(60), now::get);
  }

  @Test
  void hostAndPort_usesTheSchemesDefaultPort() {
    assertThat(OutageLog.hostAndPort(URI.create("https://api.openai.com/v1"))).isEqualTo("api.openai.com:443");
    assertThat(OutageLog.hostAndPort(URI.create("http://127.0.0.1:8000/v1"))).isEqualTo("127.0.0.1:8000");
  }
}
