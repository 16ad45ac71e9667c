package dev.yaad.server;

/**
 * The OpenAI-compatible LLM endpoint the companion talks through, as given by
 * {@code --llm-base-url}/{@code YAAD_LLM_BASE_URL}, {@code --llm-model}/{@code YAAD_LLM_MODEL}
 * and {@code --llm-api-key}/{@code YAAD_LLM_API_KEY}. Without a base URL no LLM is
 * configured: memory browsing works, conversation does not, and the page says what to set.
 *
 * @param baseUrl such as {@code http://localhost:11434/v1} (Ollama), or {@code null}
 * @param model   such as {@code llama3.1}, or {@code null} for the agent's default
 * @param apiKey  or {@code null}; never logged
 */
public record LlmSettings(String baseUrl, String model, String apiKey) {
  public static final LlmSettings NONE = new LlmSettings(null, null, null);

  public LlmSettings {
    baseUrl = blankToNull(baseUrl);
    model = blankToNull(model);
    apiKey = blankToNull(apiKey);
    if (baseUrl != null && !baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
      throw new IllegalArgumentException("the LLM base URL must start with http:// or https:// (was '" + baseUrl + "')");
    }
  }

  public boolean configured() {
    return baseUrl != null;
  }

  @Override
  public String toString() {
    return "LlmSettings[baseUrl=" + baseUrl + ", model=" + model + ", apiKey=" + (apiKey == null ? "none" : "***") + "]";
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.strip();
  }
}
