package dev.yaad.agent;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A session's short-term conversation: user texts and what the companion actually said
 * (a reply cut off by barge-in keeps only its spoken part), at most {@code maxTurns} user
 * turns; the oldest turn goes first. Tool calls stay inside their reply and are not kept.
 */
final class History {
  private final int maxTurns;
  private final Deque<ChatMessage> messages = new ArrayDeque<>();
  private int userTurns;

  History(int maxTurns) {
    this.maxTurns = maxTurns;
  }

  synchronized void user(String text) {
    messages.addLast(UserMessage.from(text));
    userTurns++;
    while (userTurns > maxTurns) {
      ChatMessage dropped = messages.removeFirst();
      if (dropped instanceof UserMessage) {
        userTurns--;
        while (!messages.isEmpty() && !(messages.peekFirst() instanceof UserMessage)) {
          messages.removeFirst();
        }
      }
    }
  }

  synchronized void assistant(String text) {
    if (!text.isBlank()) {
      messages.addLast(AiMessage.from(text));
    }
  }

  synchronized List<ChatMessage> messages() {
    return new ArrayList<>(messages);
  }

  synchronized int userTurns() {
    return userTurns;
  }

  synchronized boolean isEmpty() {
    return messages.isEmpty();
  }
}
