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

  /** Adds what the companion said; returns the message kept, or {@code null} for blank text. */
  synchronized AiMessage assistant(String text) {
    if (text.isBlank()) {
      return null;
    }
    AiMessage message = AiMessage.from(text);
    messages.addLast(message);
    return message;
  }

  /**
   * Replaces {@code kept} (if still in the history) by {@code text}, or removes it for blank text;
   * returns the message now kept in its place, or {@code null}.
   */
  synchronized AiMessage replace(AiMessage kept, String text) {
    List<ChatMessage> all = new ArrayList<>(messages);
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i) == kept) {
        AiMessage replacement = text.isBlank() ? null : AiMessage.from(text);
        if (replacement == null) {
          all.remove(i);
        } else {
          all.set(i, replacement);
        }
        messages.clear();
        messages.addAll(all);
        return replacement;
      }
    }
    return null;
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
