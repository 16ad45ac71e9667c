package dev.yaad.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Call;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The scripted server's default behaviour: a deterministic imitation of a companion model,
 * good enough for Yaad's own flows to run end to end (tools get called, extraction finds
 * something, profiles change when memories do).
 */
final class BuiltInRules {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern REMEMBER = Pattern.compile("(?i)\\bremember that (.+)");
  private static final Pattern FORGET = Pattern.compile("(?i)\\bforget (?:that |about )?(.+)");
  private static final Pattern RECALL = Pattern.compile("(?i)\\bdo you remember (.+?)\\??$");
  private static final Pattern WHAT_DO_YOU_KNOW = Pattern.compile("(?i)what do you know about me");
  private static final Pattern MEMORY_LINE = Pattern.compile("(?m)^- \\[([A-Z_]+)] (.+)$");

  private BuiltInRules() {}

  static Answer answer(Call call) {
    return switch (call.purpose()) {
      case GREETING -> Answer.text(greeting(call.lastUserMessage()));
      case EXTRACT -> Answer.text(extract(call.lastUserMessage()));
      case PROFILE -> Answer.text(profile(call.lastUserMessage()));
      case CONVERSATION -> converse(call);
    };
  }

  private static String greeting(String context) {
    Matcher m = MEMORY_LINE.matcher(context);
    String topic = null;
    while (m.find()) {
      if (m.group(1).equals("GOAL") || m.group(1).equals("PLAN")) {
        topic = m.group(2);
        break;
      }
    }
    return topic == null
        ? "Hello! It is lovely to hear your voice. How has your day been so far?"
        : "Hello again! It is lovely to hear your voice. How is it going with this: " + trim(topic, 60) + "?";
  }

  /** One memory per substantial user line of the transcript, categorised by keywords. */
  private static String extract(String transcript) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode memories = root.putArray("memories");
    for (String line : transcript.split("\n")) {
      if (!line.startsWith("USER: ")) {
        continue;
      }
      String text = line.substring(6).strip();
      if (text.split("\\s+").length < 4 || text.endsWith("?")) {
        continue;
      }
      Matcher forget = FORGET.matcher(text);
      ObjectNode memory = memories.addObject();
      if (forget.find()) {
        memory.put("category", "FACT").put("content", forget.group(1)).put("operation", "DELETE");
      } else {
        memory.put("category", category(text)).put("content", trim(text, 200)).put("operation", "ADD");
      }
    }
    return root.toString();
  }

  private static String category(String text) {
    String t = text.toLowerCase(Locale.ROOT);
    if (t.matches(".*\\b(want to|goal|hope to|trying to)\\b.*")) {
      return "GOAL";
    }
    if (t.matches(".*\\b(plan|planning|going to|next week|tomorrow)\\b.*")) {
      return "PLAN";
    }
    if (t.matches(".*\\b(my (wife|husband|son|daughter|mother|mom|father|dad|friend|sister|brother|partner|kids?))\\b.*")) {
      return "RELATIONSHIP";
    }
    if (t.matches(".*\\b(prefer|rather)\\b.*")) {
      return "PREFERENCE";
    }
    if (t.matches(".*\\b(love|like|enjoy|into)\\b.*")) {
      return "INTEREST";
    }
    if (t.matches(".*\\b(i think|i believe|i feel that)\\b.*")) {
      return "OPINION";
    }
    if (t.matches(".*\\b(went|visited|was|had|did)\\b.*")) {
      return "EXPERIENCE";
    }
    return "FACT";
  }

  /** A profile made from the memories listed: the same memories give the same profile. */
  private static String profile(String context) {
    Matcher m = MEMORY_LINE.matcher(context);
    List<String> parts = new ArrayList<>();
    while (m.find() && parts.size() < 8) {
      parts.add(trim(m.group(2), 80));
    }
    return parts.isEmpty() ? "Not much is known about the user yet." : "The user: " + String.join("; ", parts) + ".";
  }

  private static Answer converse(Call call) {
    if (call.hasToolResults()) {
      return Answer.text("Okay. " + trim(call.toolResults().getLast(), 120));
    }
    String said = call.lastUserMessage();
    List<String> tools = call.toolNames();
    Matcher m;
    if (tools.contains("saveMemory") && (m = REMEMBER.matcher(said)).find()) {
      return Answer.toolCall("saveMemory", json("category", "FACT", "content", m.group(1)));
    }
    if (tools.contains("getCompleteUserInfo") && WHAT_DO_YOU_KNOW.matcher(said).find()) {
      return Answer.toolCall("getCompleteUserInfo", "{}");
    }
    if (tools.contains("forgetMemory") && (m = FORGET.matcher(said)).find()) {
      return Answer.toolCall("forgetMemory", json("description", m.group(1)));
    }
    if (tools.contains("searchMemories") && (m = RECALL.matcher(said)).find()) {
      return Answer.toolCall("searchMemories", json("query", m.group(1)));
    }
    return Answer.text("I hear you. That sounds important to you; tell me a little more about it.");
  }

  private static String json(String... keyValues) {
    ObjectNode node = JSON.createObjectNode();
    for (int i = 0; i < keyValues.length; i += 2) {
      node.put(keyValues[i], keyValues[i + 1]);
    }
    return node.toString();
  }

  private static String trim(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
