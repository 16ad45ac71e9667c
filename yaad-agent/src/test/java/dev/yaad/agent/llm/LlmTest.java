package dev.yaad.agent.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.yaad.memory.testing.Await;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The real LangChain4j OpenAI client against the scripted server on loopback. */
class LlmTest {
  final ScriptedLlmServer server = ScriptedLlmServer.start();
  Llm llm = Llm.openAiCompatible(LlmConfig.of(server.baseUrl(), "k", "scripted")
      .withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(5)).withMaxRetries(1));

  @AfterEach
  void stop() {
    llm.close();
    server.close();
  }

  static final class Collector implements Llm.Listener {
    final List<String> tokens = new CopyOnWriteArrayList<>();
    final CompletableFuture<ChatResponse> done = new CompletableFuture<>();

    @Override
    public void onToken(String text) {
      tokens.add(text);
    }

    @Override
    public void onComplete(ChatResponse response) {
      done.complete(response);
    }

    @Override
    public void onError(Throwable error) {
      done.completeExceptionally(error);
    }

    ChatResponse await() throws Exception {
      return done.get(10, TimeUnit.SECONDS);
    }
  }

  static ChatRequest ask(String text) {
    return ChatRequest.builder().messages(SystemMessage.from("be brief"), UserMessage.from(text)).build();
  }

  @Test
  void stream_deliversTokensInOrder_andTheWholeText() throws Exception {
    server.rule(Purpose.CONVERSATION, c -> Answer.text("Salaam! Kya haal hai? آپ کیسے ہیں"));
    Collector c = new Collector();
    llm.stream(ask("hi"), c);
    ChatResponse response = c.await();
    assertThat(c.tokens).hasSizeGreaterThan(3);
    assertThat(String.join("", c.tokens)).isEqualTo("Salaam! Kya haal hai? آپ کیسے ہیں");
    assertThat(response.aiMessage().text()).isEqualTo("Salaam! Kya haal hai? آپ کیسے ہیں");
    assertThat(server.calls().getFirst().stream()).isTrue();
  }

  @Test
  void stream_assemblesToolCallsFromDeltas() throws Exception {
    server.rule(Purpose.CONVERSATION, c -> new Answer.ToolCalls(List.of(
        new ScriptedLlmServer.ToolCall("searchMemories", "{\"query\":\"sister's wedding in Karachi\",\"k\":3}"),
        new ScriptedLlmServer.ToolCall("getCompleteUserInfo", "{}"))));
    ToolSpecification tool = ToolSpecification.builder().name("searchMemories")
        .parameters(JsonObjectSchema.builder().addStringProperty("query").build()).build();
    Collector c = new Collector();
    llm.stream(ChatRequest.builder().messages(UserMessage.from("x")).toolSpecifications(tool).build(), c);
    List<ToolExecutionRequest> calls = c.await().aiMessage().toolExecutionRequests();
    assertThat(calls).extracting(ToolExecutionRequest::name).containsExactly("searchMemories", "getCompleteUserInfo");
    assertThat(calls.getFirst().arguments()).isEqualTo("{\"query\":\"sister's wedding in Karachi\",\"k\":3}");
    assertThat(server.calls().getFirst().toolNames()).containsExactly("searchMemories");
  }

  /**
   * More streams open at once than the JDK's common pool has threads to spare (256), each in the
   * pause between its first and second token: every one has delivered its first token. Read on
   * the common pool (LangChain4j's JdkHttpClient), 257 did, and the rest waited for one of them
   * to end.
   */
  @Test
  void manyStreamsOpenAtOnce_eachDeliversItsFirstToken() {
    server.rule(Purpose.CONVERSATION, c -> Answer.text("One, and the rest much later."));
    server.recordCalls(false).latency(Duration.ofMillis(20), Duration.ofSeconds(40));
    llm.close();
    llm = Llm.openAiCompatible(LlmConfig.of(server.baseUrl(), "k", "scripted")
        .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(60)).withFirstTokenBudget(Duration.ofSeconds(30)));
    List<Collector> calls = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      Collector c = new Collector();
      calls.add(c);
      llm.stream(ask("count " + i), c);
    }
    Await.until(() -> calls.stream().allMatch(c -> !c.tokens.isEmpty()),
        Duration.ofSeconds(30), "a first token on each of 300 open streams");
    assertThat(calls).noneMatch(c -> c.done.isDone());
  }

  @Test
  void cancel_stopsDeliveryAtOnce() throws Exception {
    server.latency(Duration.ofMillis(10), Duration.ofMillis(30));
    Collector c = new Collector();
    Llm.Stream[] stream = new Llm.Stream[1];
    stream[0] = llm.stream(ask("tell me a story"), new Llm.Listener() {
      @Override
      public void onToken(String text) {
        c.onToken(text);
        stream[0].cancel();
      }

      @Override
      public void onComplete(ChatResponse response) {
        c.onComplete(response);
      }

      @Override
      public void onError(Throwable error) {
        c.onError(error);
      }
    });
    Await.until(() -> !c.tokens.isEmpty(), Duration.ofSeconds(5), "first token");
    // A second call on the same client finishes, proving the first stream no longer delivers.
    Collector next = new Collector();
    llm.stream(ask("again"), next);
    next.await();
    assertThat(stream[0].isCancelled()).isTrue();
    assertThat(c.tokens).hasSize(1);
    assertThat(c.done).isNotDone();
  }

  @Test
  void noFirstTokenInTime_isRetried_thenReported() throws Exception {
    server.hang(Purpose.CONVERSATION, 1);
    Collector ok = new Collector();
    llm.stream(ask("one"), ok);
    assertThat(ok.await().aiMessage().text()).isNotBlank();
    assertThat(server.count(Purpose.CONVERSATION)).isEqualTo(2);

    server.hang(Purpose.CONVERSATION, 2);
    Collector failed = new Collector();
    llm.stream(ask("two"), failed);
    assertThat(failed.done).failsWithin(Duration.ofSeconds(10))
        .withThrowableThat().havingRootCause().isInstanceOf(dev.langchain4j.exception.TimeoutException.class)
        .withMessageContaining("no first token within 500 ms");
  }

  /**
   * The next {@code hangs} conversation requests hang, and the LLM would give a hung request up only
   * after a minute (the scripted hang's length too).
   */
  private void hangingAMinute(int hangs) {
    server.hang(Purpose.CONVERSATION, hangs);
    llm.close();
    llm = Llm.openAiCompatible(LlmConfig.of(server.baseUrl(), "k", "scripted")
        .withTimeouts(Duration.ofMillis(300), Duration.ofSeconds(60)).withMaxRetries(1));
  }

  @Test
  void aCallThatFailed_abortsItsHungRequests_atOnce() throws Exception {
    hangingAMinute(2);
    Collector failed = new Collector();
    llm.stream(ask("hello?"), failed);
    assertThat(failed.done).failsWithin(Duration.ofSeconds(10));
    // Not held until the 60 s timeout: both attempts' requests, connections and reader threads are let go.
    Await.until(() -> llm.streamsInFlight() == 0, Duration.ofSeconds(10), "the hung requests aborted");
    Collector next = new Collector(); // and the readers serve the next call (no interrupt left behind)
    llm.stream(ask("again"), next);
    assertThat(next.await().aiMessage().text()).isNotBlank();
  }

  @Test
  void cancelBeforeTheFirstToken_abortsTheRequest() throws Exception {
    hangingAMinute(1);
    Collector c = new Collector();
    Llm.Stream stream = llm.stream(ask("hello?"), c);
    Await.until(() -> server.count(Purpose.CONVERSATION) == 1 && llm.streamsInFlight() == 1, Duration.ofSeconds(5), "the request sent");
    stream.cancel();
    Await.until(() -> llm.streamsInFlight() == 0, Duration.ofSeconds(10), "the hung request aborted");
    assertThat(c.done).isNotDone(); // a cancelled call tells its listener nothing
  }

  @Test
  void theRetrysAnswer_abortsTheHungFirstAttempt() throws Exception {
    hangingAMinute(1);
    Collector c = new Collector();
    llm.stream(ask("hello?"), c);
    assertThat(c.await().aiMessage().text()).isNotBlank();
    Await.until(() -> llm.streamsInFlight() == 0, Duration.ofSeconds(10), "the hung first attempt aborted");
  }

  @Test
  void aSlowFirstToken_stillCounts_whenItComesBeforeTheRetrysOwn() throws Exception {
    // A provider that only queues: every request's first token after 1.5 s, past the 1 s wait. The retry
    // (sent at 1.2 s) would answer at 2.7 s, past the 2.2 s its wait and the 3 s budget allow: only the first
    // attempt's answer can be in time.
    server.latency(Duration.ofMillis(1500), Duration.ofMillis(5));
    server.rule(Purpose.CONVERSATION, c -> Answer.text("late but here"));
    llm.close();
    llm = Llm.openAiCompatible(LlmConfig.of(server.baseUrl(), "k", "scripted")
        .withTimeouts(Duration.ofMillis(1000), Duration.ofSeconds(10)).withMaxRetries(1)
        .withFirstTokenBudget(Duration.ofMillis(3000)));
    Collector c = new Collector();
    llm.stream(ask("busy?"), c);
    assertThat(c.await().aiMessage().text()).isEqualTo("late but here");
    assertThat(String.join("", c.tokens)).isEqualTo("late but here"); // once: the retry's text is not delivered too
  }

  @Test
  void clientErrors_areNotRetried() throws Exception {
    server.fail(Purpose.CONVERSATION, 1, 400);
    Collector c = new Collector();
    llm.stream(ask("bad"), c);
    assertThat(c.done).failsWithin(Duration.ofSeconds(10));
    assertThat(server.count(Purpose.CONVERSATION)).isEqualTo(1);
  }

  @Test
  void blockingChat_usesTheNonStreamingProtocol_withRetries() {
    server.fail(Purpose.PROFILE, 1, 503);
    ChatResponse r = llm.chat(ChatRequest.builder()
        .messages(SystemMessage.from(Prompts.PROFILE), UserMessage.from("- [GOAL] learn Urdu calligraphy")).build());
    assertThat(r.aiMessage().text()).isEqualTo("The user: learn Urdu calligraphy.");
    assertThat(server.calls(Purpose.PROFILE)).hasSize(2).allMatch(call -> !call.stream());
  }

  @Test
  void config_fromEnv_masksTheKey_andValidates() {
    LlmConfig config = LlmConfig.fromEnv(java.util.Map.of("YAAD_LLM_BASE_URL", "http://localhost:11434/v1/",
        "OPENAI_API_KEY", "sk-secret", "YAAD_LLM_MODEL", "llama3.2"));
    assertThat(config.baseUrl()).isEqualTo("http://localhost:11434/v1");
    assertThat(config.model()).isEqualTo("llama3.2");
    assertThat(config.toString()).doesNotContain("sk-secret").contains("apiKey=****");
    assertThat(LlmConfig.fromEnv(java.util.Map.of()).baseUrl()).isEqualTo(LlmConfig.DEFAULT_BASE_URL);
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> LlmConfig.of("localhost:11434", null, "m")).withMessageContaining("baseUrl");
  }
}
