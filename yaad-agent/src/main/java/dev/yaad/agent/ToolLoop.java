package dev.yaad.agent;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.yaad.agent.learning.Learned;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A reply's rounds of model → memory tools → model, up to {@link AgentConfig#maxToolRounds()}:
 * the last allowed round offers no tools, so the model must answer. Tool calls run on the
 * session's work threads, one after another, and stop as soon as the reply is over (barge-in,
 * close). Each call is reported (metrics, {@link SessionListener#onToolCall}), then what it
 * changed ({@link SessionListener#onLearned}, and a profile refresh asked of learning).
 */
final class ToolLoop {
  private final Session session;
  private final SessionContext context;
  private final MemoryTools tools;

  ToolLoop(Session session, SessionContext context, MemoryTools tools) {
    this.session = session;
    this.context = context;
    this.tools = tools;
  }

  /** Starts the first round of {@code speech}, a reply to the conversation in {@code messages}. */
  void start(Speech speech, List<ChatMessage> messages) {
    round(speech, messages, 0);
  }

  private void round(Speech speech, List<ChatMessage> messages, int round) {
    boolean toolsAllowed = round < context.config().maxToolRounds();
    ChatRequest.Builder request = ChatRequest.builder().messages(messages);
    if (toolsAllowed) {
      request.toolSpecifications(tools.specifications());
    }
    session.stream(speech, "reply", request.build(), response -> {
      AiMessage ai = response.aiMessage();
      if (!toolsAllowed || !ai.hasToolExecutionRequests()) {
        session.complete(speech);
        return;
      }
      session.runWork(speech, () -> {
        List<ChatMessage> next = new ArrayList<>(messages);
        next.add(ai);
        for (ToolExecutionRequest call : ai.toolExecutionRequests()) {
          if (speech.isDone()) {
            return;
          }
          next.add(ToolExecutionResultMessage.from(call, runTool(speech, call)));
        }
        if (!speech.isDone()) {
          round(speech, next, round + 1);
        }
      });
    });
  }

  private String runTool(Speech speech, ToolExecutionRequest call) {
    List<Learned> changes = new ArrayList<>(1);
    long start = System.nanoTime();
    MemoryTools.Result result = tools.execute(call, changes::add);
    Duration latency = Duration.ofNanos(System.nanoTime() - start);
    context.metrics().toolCall(call.name(), latency, result.ok());
    session.toolCalled(speech, call.name(), latency, result.ok());
    // After onToolCall, so that a listener hears which call it was before what it changed,
    // and before the profile refresh it asks for, whose own report comes later.
    for (Learned change : changes) {
      session.learned(speech, change);
      context.learning().memoryChanged(session.userId(), "tool " + call.name() + outcome(change));
    }
    return result.text();
  }

  /** For the profile refresh's reason ({@code tool saveMemory ADDED}): {@code " ADDED"}, {@code " UPDATED"}, or nothing for a deletion. */
  private static String outcome(Learned change) {
    return !change.added().isEmpty() ? " ADDED" : !change.updated().isEmpty() ? " UPDATED" : "";
  }
}
