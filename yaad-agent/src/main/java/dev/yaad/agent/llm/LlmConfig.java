package dev.yaad.agent.llm;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach an OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
 * LM Studio, ...).
 *
 * @param baseUrl           the API root, e.g. {@code https://api.openai.com/v1} or {@code http://localhost:11434/v1}
 * @param apiKey            may be {@code null} for servers that need none; never logged
 * @param model             the model name the server knows
 * @param firstTokenTimeout how long one attempt of a streamed call may take to its first token
 *                          before it is abandoned (and retried, within the budget)
 * @param callTimeout       the most one call may take in total, retries included
 * @param maxRetries        retries after the first attempt, only for retriable failures
 *                          (timeouts, 429, 5xx) and, when streaming, only before the first token
 * @param firstTokenBudget  the most a streamed call may take to its first token, retries
 *                          included: a hung provider costs the user this long, not
 *                          {@code (1 + maxRetries) × firstTokenTimeout}; between
 *                          {@code firstTokenTimeout} and {@code callTimeout}
 */
public record LlmConfig(
    String baseUrl, String apiKey, String model, Duration firstTokenTimeout, Duration callTimeout, int maxRetries,
    Duration firstTokenBudget) {

  public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";
  public static final String DEFAULT_MODEL = "gpt-4o-mini";
  public static final Duration DEFAULT_FIRST_TOKEN_TIMEOUT = Duration.ofSeconds(3);
  public static final Duration DEFAULT_FIRST_TOKEN_BUDGET = Duration.ofSeconds(6);
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(60);
  public static final int DEFAULT_MAX_RETRIES = 1;

  public LlmConfig {
    Objects.requireNonNull(baseUrl, "baseUrl");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(firstTokenTimeout, "firstTokenTimeout");
    Objects.requireNonNull(callTimeout, "callTimeout");
    Objects.requireNonNull(firstTokenBudget, "firstTokenBudget");
    if (!baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
      throw new IllegalArgumentException("baseUrl must start with http:// or https:// (was '" + baseUrl + "')");
    }
    if (firstTokenTimeout.isNegative() || firstTokenTimeout.isZero()) {
      throw new IllegalArgumentException("firstTokenTimeout must be positive (was " + firstTokenTimeout + ")");
    }
    if (callTimeout.compareTo(firstTokenTimeout) < 0) {
      throw new IllegalArgumentException("callTimeout (" + callTimeout + ") cannot be shorter than firstTokenTimeout (" + firstTokenTimeout + ")");
    }
    if (firstTokenBudget.compareTo(firstTokenTimeout) < 0 || firstTokenBudget.compareTo(callTimeout) > 0) {
      throw new IllegalArgumentException("firstTokenBudget (" + firstTokenBudget + ") must be between firstTokenTimeout ("
          + firstTokenTimeout + ") and callTimeout (" + callTimeout + ")");
    }
    if (maxRetries < 0 || maxRetries > 10) {
      throw new IllegalArgumentException("maxRetries must be 0..10 (was " + maxRetries + ")");
    }
    baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  public static LlmConfig of(String baseUrl, String apiKey, String model) {
    return new LlmConfig(baseUrl, apiKey, model, DEFAULT_FIRST_TOKEN_TIMEOUT, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_RETRIES,
        DEFAULT_FIRST_TOKEN_BUDGET);
  }

  /**
   * From {@code YAAD_LLM_BASE_URL}, {@code YAAD_LLM_API_KEY} (else {@code OPENAI_API_KEY})
   * and {@code YAAD_LLM_MODEL}, with the defaults above for what is unset.
   */
  public static LlmConfig fromEnv() {
    return fromEnv(System.getenv());
  }

  /** As {@link #fromEnv()}, from the variables given (a process's environment, or a test's). */
  public static LlmConfig fromEnv(Map<String, String> env) {
    String key = blankToNull(env.get("YAAD_LLM_API_KEY"));
    if (key == null) {
      key = blankToNull(env.get("OPENAI_API_KEY"));
    }
    String url = blankToNull(env.get("YAAD_LLM_BASE_URL"));
    String model = blankToNull(env.get("YAAD_LLM_MODEL"));
    return of(url == null ? DEFAULT_BASE_URL : url, key, model == null ? DEFAULT_MODEL : model);
  }

  /** Each attempt's first-token timeout and the call's; the first-token budget becomes the call timeout (no tighter bound). */
  public LlmConfig withTimeouts(Duration firstToken, Duration call) {
    return new LlmConfig(baseUrl, apiKey, model, firstToken, call, maxRetries, call);
  }

  /** The most a streamed call may take to its first token, retries included. */
  public LlmConfig withFirstTokenBudget(Duration budget) {
    return new LlmConfig(baseUrl, apiKey, model, firstTokenTimeout, callTimeout, maxRetries, budget);
  }

  public LlmConfig withMaxRetries(int retries) {
    return new LlmConfig(baseUrl, apiKey, model, firstTokenTimeout, callTimeout, retries, firstTokenBudget);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }

  @Override
  public String toString() {
    return "LlmConfig[baseUrl=" + baseUrl + ", model=" + model + ", apiKey=" + (apiKey == null ? "none" : "****")
        + ", firstTokenTimeout=" + firstTokenTimeout + ", firstTokenBudget=" + firstTokenBudget + ", callTimeout=" + callTimeout
        + ", maxRetries=" + maxRetries + "]";
  }
}
