package dev.yaad.server;

import dev.yaad.agent.llm.LlmConfig;
import java.time.Duration;

/**
 * The OpenAI-compatible LLM endpoint the companion talks through, as given by
 * {@code --llm-base-url}/{@code YAAD_LLM_BASE_URL}, {@code --llm-model}/{@code YAAD_LLM_MODEL}
 * and {@code --llm-api-key}/{@code YAAD_LLM_API_KEY}, and how long a reply may wait for its
 * first token ({@code --llm-first-token-ms}, {@code --llm-first-token-budget-ms},
 * {@code --llm-retries}). Without a base URL no LLM is configured: memory browsing works,
 * conversation does not, and the page says what to set.
 *
 * @param baseUrl          such as {@code http://localhost:11434/v1} (Ollama), or {@code null}
 * @param model            such as {@code llama3.1}, or {@code null} for the agent's default
 * @param apiKey           or {@code null}; never logged
 * @param firstToken       one attempt's wait for its first token
 * @param firstTokenBudget the whole wait for a first token, retries included (at most the call timeout, 60 s)
 * @param retries          retries of a failed or silent attempt before the first token, 0..10
 */
public record LlmSettings(String baseUrl, String model, String apiKey, Duration firstToken, Duration firstTokenBudget,
    int retries) {
  public static final LlmSettings NONE = new LlmSettings(null, null, null);

  public LlmSettings {
    baseUrl = blankToNull(baseUrl);
    model = blankToNull(model);
    apiKey = blankToNull(apiKey);
    if (baseUrl != null && !baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
      throw new IllegalArgumentException("the LLM base URL must start with http:// or https:// (was '" + baseUrl + "')");
    }
    if (firstToken.isNegative() || firstToken.isZero()) {
      throw new IllegalArgumentException("the first-token timeout must be positive (was " + firstToken.toMillis() + " ms)");
    }
    if (firstTokenBudget.compareTo(firstToken) < 0 || firstTokenBudget.compareTo(LlmConfig.DEFAULT_CALL_TIMEOUT) > 0) {
      throw new IllegalArgumentException("the first-token budget must be between the first-token timeout ("
          + firstToken.toMillis() + " ms) and " + LlmConfig.DEFAULT_CALL_TIMEOUT.toMillis() + " ms (was "
          + firstTokenBudget.toMillis() + " ms)");
    }
    if (retries < 0 || retries > 10) {
      throw new IllegalArgumentException("retries must be 0..10 (was " + retries + ")");
    }
  }

  /** An endpoint with the default first-token timeouts and retries. */
  public LlmSettings(String baseUrl, String model, String apiKey) {
    this(baseUrl, model, apiKey, LlmConfig.DEFAULT_FIRST_TOKEN_TIMEOUT, LlmConfig.DEFAULT_FIRST_TOKEN_BUDGET,
        LlmConfig.DEFAULT_MAX_RETRIES);
  }

  /** The agent's configuration for this endpoint. */
  LlmConfig llmConfig() {
    return new LlmConfig(baseUrl, apiKey, model == null ? LlmConfig.DEFAULT_MODEL : model, firstToken,
        LlmConfig.DEFAULT_CALL_TIMEOUT, retries, firstTokenBudget);
  }

  public boolean configured() {
    return baseUrl != null;
  }

  @Override
  public String toString() {
    return "LlmSettings[baseUrl=" + baseUrl + ", model=" + model + ", apiKey=" + (apiKey == null ? "none" : "***")
        + ", firstToken=" + firstToken.toMillis() + " ms, firstTokenBudget=" + firstTokenBudget.toMillis() + " ms, retries=" + retries + "]";
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.strip();
  }
}
