package dev.yaad.agent.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** An LLM outage is logged as changes of state naming host and port, without a stack trace per failed call. */
class LlmOutageTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger(Llm.class);
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

  @BeforeEach
  void listen() {
    lines.start();
    logger.addAppender(lines);
  }

  @AfterEach
  void stopListening() {
    logger.detachAppender(lines);
  }

  /** The outage lines of the provider at {@code server}. */
  private List<String> outageLines(ScriptedLlmServer server) {
    URI base = URI.create(server.baseUrl());
    String where = "llm: " + base.getHost() + ":" + base.getPort();
    return lines.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.startsWith(where)).toList();
  }

  @Test
  void providerFailures_logDownOnce_thenBackUp() {
    try (ScriptedLlmServer server = ScriptedLlmServer.start();
        Llm llm = Llm.openAiCompatible(LlmConfig.of(server.baseUrl(), "k", "scripted")
            .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10)).withMaxRetries(0))) {
      server.fail(Purpose.EXTRACT, 3, 500);
      ChatRequest request = ChatRequest.builder() // an extraction, as the scripted server reads it: a JSON answer asked for
          .messages(SystemMessage.from(Prompts.EXTRACT), UserMessage.from("USER: hello there my friend"))
          .responseFormat(ResponseFormat.JSON)
          .build();
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> llm.chat(request)).isNotNull();
      }
      llm.chat(request);

      URI base = URI.create(server.baseUrl());
      String where = "llm: " + base.getHost() + ":" + base.getPort();
      assertThat(outageLines(server)).satisfiesExactly(
          down -> assertThat(down).startsWith(where + " is down (").contains("calls fail until it answers"),
          up -> assertThat(up).matches(java.util.regex.Pattern.quote(where) + " is back up after 3 failed calls in \\d+ s"));
      assertThat(lines.list).allSatisfy(e -> assertThat(e.getThrowableProxy()).as(e.getFormattedMessage()).isNull());
    }
  }

  @Test
  void anAttemptThatARetryMakesGood_isNoOutage() throws Exception {
    // On a saturated machine a first attempt can miss its first-token timeout while the retry
    // beside it answers: the call succeeded, so no "is down, calls fail" line.
    try (ScriptedLlmServer server = ScriptedLlmServer.start();
        Llm llm = Llm.openAiCompatible(LlmConfig.of(server.baseUrl(), "k", "scripted")
            .withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(30)).withFirstTokenBudget(Duration.ofSeconds(20))
            .withMaxRetries(1))) {
      server.hang(Purpose.CONVERSATION, 1);
      LlmTest.Collector answer = new LlmTest.Collector();
      llm.stream(LlmTest.ask("hello there"), answer);
      assertThat(answer.await().aiMessage().text()).isNotBlank();
      assertThat(server.calls(Purpose.CONVERSATION)).hasSize(2);
      assertThat(outageLines(server)).isEmpty();
    }
  }
}
