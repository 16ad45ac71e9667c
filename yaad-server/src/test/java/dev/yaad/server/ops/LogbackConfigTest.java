package dev.yaad.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusUtil;
import java.net.URL;
import org.junit.jupiter.api.Test;

/**
 * Logback prints its whole internal status (some thirty lines) at start-up as soon as the
 * configuration draws a single warning, so the shipped configuration must draw none.
 */
class LogbackConfigTest {

  @Test
  void shippedConfiguration_drawsNoWarning_soStartUpPrintsNoLogbackStatus() throws Exception {
    URL shipped = getClass().getResource("/logback.xml");
    assertThat(shipped).isNotNull();
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(shipped);
    StatusUtil statuses = new StatusUtil(context);
    assertThat(statuses.getHighestLevel(0))
        .as("logback statuses: %s", context.getStatusManager().getCopyOfStatusList())
        .isLessThan(Status.WARN);
    context.stop();
  }
}
