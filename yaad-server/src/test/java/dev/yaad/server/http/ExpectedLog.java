package dev.yaad.server.http;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Holds back what one logger writes while a test provokes a failure on purpose, so that the
 * build's output shows no stack trace for an expected failure, and lets the test check that
 * the server did log it (with its stack trace, as it must for a real one), or that a library
 * logged nothing it should not have.
 */
public final class ExpectedLog implements AutoCloseable {
  private final Logger logger;
  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private final boolean additive;

  private ExpectedLog(Class<?> source) {
    logger = (Logger) LoggerFactory.getLogger(source);
    additive = logger.isAdditive();
    events.start();
    logger.addAppender(events);
    logger.setAdditive(false);
  }

  public static ExpectedLog of(Class<?> source) {
    return new ExpectedLog(source);
  }

  public List<ILoggingEvent> events() {
    return List.copyOf(events.list);
  }

  @Override
  public void close() {
    logger.setAdditive(additive);
    logger.detachAppender(events);
  }
}
