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
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** An LLM outage is logged as changes of state naming host and port, without a stack trace per failed call. */
class LlmOutageTest {

  @Test
  void providerFailures_logDownOnce_thenBackUp() {
    Logger logger = (Logger) LoggerFactory.getLogger(Llm.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
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
      assertThat(lines.list).filteredOn(e -> e.getFormattedMessage().startsWith(where))
          .extracting(ILoggingEvent::getFormattedMessage)
          .satisfiesExactly(
              down -> assertThat(down).startsWith(where + " is down (").contains("calls fail until it answers"),
              up -> assertThat(up).matches(java.util.regex.Pattern.quote(where) + " is back up after 3 failed calls in \\d+ s"));
      assertThat(lines.list).allSatisfy(e -> assertThat(e.getThrowableProxy()).as(e.getFormattedMessage()).isNull());
    } finally {
      logger.detachAppender(lines);
    }
  }

  @Test
  void anAttemptThatARetryMakesGood_isNoOutage() throws Exception {
    // On a saturated machine a first attempt can miss its first-token timeout while the retry
    // beside it answers: the call succeeded, so no "is down, calls fail" line.
    Logger logger = (Logger) LoggerFactory.getLogger(Llm.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try (ScriptedLlmServer server = ScriptedLlmServer.start();
        Llm llm = Llm.openAiCompatible(LlmConfig.of(server.baseUrl(), "k", "scripted")
            .withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(30)).withFirstTokenBudget(Duration.ofSeconds(20))
            .withMaxRetries(1))) {
      server.hang(Purpose.CONVERSATION, 1);
      CompletableFuture<ChatResponse> answered = new CompletableFuture<>();
      llm.stream(ChatRequest.builder().messages(UserMessage.from("hello there")).build(), new Llm.Listener() {
        @Override
        public void onToken(String text) {}

        @Override
        public void onComplete(ChatResponse response) {
          answered.complete(response);
        }

        @Override
        public void onError(Throwable error) {
          answered.completeExceptionally(error);
        }
      });
      assertThat(answered.get(30, TimeUnit.SECONDS).aiMessage().text()).isNotBlank();
      assertThat(server.calls(Purpose.CONVERSATION)).hasSize(2);

      URI base = URI.create(server.baseUrl());
      assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage)
          .noneMatch(m -> m.startsWith("llm: " + base.getHost() + ":" + base.getPort()));
    } finally {
      logger.detachAppender(lines);
    }
  }
}
