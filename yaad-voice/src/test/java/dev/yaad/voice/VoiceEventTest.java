package dev.yaad.voice;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Events become the client's JSON messages as they are, with Jackson. */
class VoiceEventTest {
  final ObjectMapper json = new ObjectMapper();

  @Test
  void events_serialiseWithTheirTypeAndComponentNames() {
    JsonNode interrupted = json.valueToTree(new VoiceEvent.Interrupted("r-2", 1200, "Once upon"));
    assertThat(interrupted.toString()).isEqualTo("{\"type\":\"interrupted\",\"replyId\":\"r-2\",\"heardMs\":1200,\"heardText\":\"Once upon\"}");
    JsonNode transcript = json.valueToTree(new VoiceEvent.Transcript("hello", true, "en"));
    assertThat(transcript.path("type").asText()).isEqualTo("transcript");
    assertThat(transcript.path("isFinal").asBoolean()).isTrue();
    JsonNode metrics = json.valueToTree(new VoiceEvent.TurnMetrics("r-1", 510L, 200L, 420L, 40L, 90L, 30L, 800L, false, null));
    assertThat(metrics.path("type").asText()).isEqualTo("voice_metrics");
    assertThat(metrics.path("endToEndMs").asLong()).isEqualTo(800);
    assertThat(metrics.path("heardMs").isNull()).isTrue();
  }
}
