package dev.yaad.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Text a client chose cannot start a log line of its own, or hide one, in the server's log. */
class EscapedMessageConverterTest {

  @Test
  void lineBreaksControlsAndBidiOverrides_areEscaped_otherTextIsKept() {
    assertThat(EscapedMessageConverter.escape("user ali\n2026-12-01 INFO  YaadServer - forged"))
        .isEqualTo("user ali\\u000A2026-12-01 INFO  YaadServer - forged");
    assertThat(EscapedMessageConverter.escape("a\rb\tc\u001B[31md\u2028e\u202Ef")).isEqualTo("a\\u000Db\\u0009c\\u001B[31md\\u2028e\\u202Ef");
    String urdu = "علی 🍵 café";
    assertThat(EscapedMessageConverter.escape(urdu)).isSameAs(urdu);
  }

  @Test
  void theServersLogConfiguration_writesEveryMessageEscaped() throws Exception {
    LoggerContext context = new LoggerContext();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(EscapedMessageConverterTest.class.getResource("/logback.xml"));
    // The bytes the configured appender's encoder writes to stderr for one event.
    @SuppressWarnings("unchecked")
    OutputStreamAppender<ILoggingEvent> out = (OutputStreamAppender<ILoggingEvent>) context.getLogger("ROOT").getAppender("OUT");
    ch.qos.logback.classic.Logger logger = context.getLogger("dev.yaad.server.http.SessionSocket");
    LoggingEvent event = new LoggingEvent("x", logger, Level.INFO, "session event=start user={}", null,
        new Object[] {"ali\nERROR YaadServer - forged"});
    String text = new String(out.getEncoder().encode(event), StandardCharsets.UTF_8);
    assertThat(text.lines()).hasSize(1);
    assertThat(text).contains("user=ali\\u000AERROR YaadServer - forged");
    context.stop();
  }
}
