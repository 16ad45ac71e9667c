package dev.yaad.agent.llm;

/**
 * The prompts Yaad sends. The conversation prompt is configurable
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
}
