package dev.yaad.memory;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The JSON rules for memory metadata and everything that carries it (the store, the REST API,
 * the user export files): decimals stay {@code BigDecimal} with their trailing zeros
 * ({@code 1.10} comes back as {@code 1.10}), a repeated key or text after the value is an
 * error, not something silently resolved. Each caller gets a mapper of its own, so no one can
 * change the rules for another by configuring a shared instance.
 */
public final class ExactJson {
  private ExactJson() {}

  /** A new mapper that reads and writes by these rules. */
  public static JsonMapper newMapper() {
    return JsonMapper.builder()
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
        .build();
  }
}
