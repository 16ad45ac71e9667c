package dev.yaad.agent.llm;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.yaad.memory.Memory;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import java.util.List;
import java.util.Map;

/**
 * What Yaad says to the model: the prompts, and the one way a user's snapshot becomes prompt
 * text (a {@code - [CATEGORY] content} line per memory), shared by the greeting and the
 * profile refresh. The conversation prompt is configurable
 * ({@code AgentConfig.systemPrompt}); the background prompts are not, because their output is
 * parsed. Real providers see exactly these texts, nothing added for tests: the scripted test
 * server ({@code yaad-testing}) tells the four tasks apart by reading the request itself (an
 * extraction asks for a JSON response; a greeting and a profile refresh are known by the
 * opening words of these prompts), so changing those opening words means changing it too.
 */
public final class Prompts {

  /** The default persona: warm, brief (it is spoken), in the user's language. */
  public static final String DEFAULT_SYSTEM_PROMPT = """
      You are a warm, attentive voice companion who remembers the person you talk with.
      Answer in the language the user speaks (Urdu, English, or any other), in short spoken
      sentences without lists or markup. Use the memory tools when the user tells you
      something worth remembering, asks what you know, or asks you to forget something;
      never invent memories.""";

  public static final String GREETING = """
      Greet the user as their companion at the start of a call, in one or two short spoken
      sentences, in the language of what you know about them (default: English). Mention
      one personal thing from what you know (their name, a recent goal or plan) if there
      is one; otherwise just greet warmly. Do not ask more than one question.""";

  public static final String EXTRACT = """
      You extract long-term memories about the USER from a conversation excerpt.
      Return only a JSON object: {"memories":[{"category":"...","content":"...","operation":"ADD|UPDATE|DELETE"}]}.
      category is one of: %s. content is one short self-contained sentence about the
      user, in the language they used. Use UPDATE when a fact replaces an earlier one,
      DELETE when the user asks to forget something (content describes what to forget).
      Skip small talk, questions and anything about the assistant. Return {"memories":[]}
      when there is nothing worth remembering.""";

  public static final String PROFILE = """
      Write a short profile (at most 80 words, third person, plain text) of the user from
      their current profile and memories below: who they are, the people who matter to
      them, what they are working towards, what they like. Keep what is still true,
      drop what memories contradict. Return only the profile text.""";

  private Prompts() {}

  /**
   * The greeting request's messages: the greeting prompt, then what is known about the user.
   *
   * @param snapshot {@code null} when it did not load in time: greet without it
   * @param language a BCP 47 tag, or {@code null} to follow the user
   */
  public static List<ChatMessage> greeting(Snapshot snapshot, String language) {
    return List.of(SystemMessage.from(GREETING + languageHint(language)),
        UserMessage.from("What you know about the user:\n" + describe(snapshot)));
  }

  /**
   * The system prompt of a conversation turn: the persona, the language, and the profile if
   * there is one (the tools fetch the rest).
   */
  public static String conversation(String persona, Snapshot snapshot, String language) {
    StringBuilder prompt = new StringBuilder(persona).append(languageHint(language));
    if (snapshot != null && snapshot.profile().exists()) {
      prompt.append("\n\nWhat you know about the user (use the tools for more): ").append(snapshot.profile().content());
    }
    return prompt.toString();
  }

  /** The extraction prompt for these categories. */
  public static String extraction(List<String> categories) {
    return EXTRACT.formatted(String.join(", ", categories));
  }

  /** The profile refresh's messages: the profile prompt, then the current profile and the memories. */
  public static List<ChatMessage> profile(Profile current, Snapshot snapshot) {
    StringBuilder context = new StringBuilder("Current profile: ")
        .append(current.exists() ? current.content() : "(none)").append("\nMemories:\n");
    memoryLines(context, snapshot);
    return List.of(SystemMessage.from(PROFILE), UserMessage.from(context.toString()));
  }

  /** The snapshot as prompt text: the profile, then one {@code - [CATEGORY] content} line per memory. */
  static String describe(Snapshot snapshot) {
    if (snapshot == null) {
      return "(nothing yet)";
    }
    Profile profile = snapshot.profile();
    StringBuilder text = new StringBuilder("Profile: ").append(profile.exists() ? profile.content() : "(none yet)").append('\n');
    memoryLines(text, snapshot);
    return text.toString();
  }

  private static void memoryLines(StringBuilder text, Snapshot snapshot) {
    for (Map.Entry<String, List<Memory>> e : snapshot.memories().entrySet()) {
      for (Memory m : e.getValue()) {
        text.append("- [").append(e.getKey()).append("] ").append(m.content()).append('\n');
      }
    }
  }

  /** What the companion says when the model failed a reply, in English. */
  public static final String APOLOGY_EN = "Sorry, I couldn't think just now. Could you say that again?";
  /** ... and in Urdu. */
  public static final String APOLOGY_UR = "معاف کیجیے، میں ابھی سوچ نہیں پایا۔ کیا آپ دوبارہ کہیں گے؟";

  /**
   * The line the companion says when the model failed a reply, so that a voice user is not
   * left in silence: Urdu when the session's language is Urdu ({@code ur}, {@code ur-PK}) or,
   * with no language set, when the user wrote in Arabic script; English otherwise.
   */
  public static String apology(String language, String userText) {
    boolean urdu = language != null
        ? language.toLowerCase(java.util.Locale.ROOT).startsWith("ur")
        : userText != null && userText.codePoints().anyMatch(c -> Character.UnicodeScript.of(c) == Character.UnicodeScript.ARABIC);
    return urdu ? APOLOGY_UR : APOLOGY_EN;
  }

  private static String languageHint(String language) {
    return language == null ? "" : "\nThe user's language is " + language + " (BCP 47): speak it.";
  }
}
