package dev.yaad.server.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * What the operator page charts, read from the same registry {@code /metrics} exposes
 * ({@code GET /api/v1/ops/summary}): one small JSON object of cumulative counts and current
 * gauges. Rates and per-interval means are the page's to compute between two reads (as
 * Prometheus would from two scrapes), so the server keeps no history.
 *
 * <p>A meter that does not exist on this server (no LLM: no agent meters; no Redis: no L2)
 * is {@code null}, not zero, so the page can say "not measured here" instead of drawing a
 * flat line. Meters that only some servers register (voice: speech-to-text, text-to-speech;
 * learning lag, with learning on) get a line in {@link #VOICE_TIMERS} and
 * {@link #LEARNING_GAUGES}: they appear in the summary, and on the page, once registered.
 */
public final class OpsSummary {
  /** Turn latency parts: summary key → timer name (all tags summed). */
  static final Map<String, String> TURN_TIMERS = ordered(
      "snapshot", "yaad.memory.snapshot",
      "tools", "yaad.agent.tool",
      "llmFirstToken", "yaad.agent.reply.first_token",
      "endToEnd", "yaad.agent.reply.duration");
  /**
   * Voice turn parts, as the voice pipeline registers them (yaad-voice's {@code VoiceMetrics});
   * {@code null} on a server with voice off.
   */
  static final Map<String, String> VOICE_TIMERS = ordered(
      "endOfUtterance", "yaad.voice.end_of_utterance",
      "speechToText", "yaad.voice.stt",
      "textToSpeechFirstByte", "yaad.voice.tts_first_byte",
      "voiceEndToEnd", "yaad.voice.end_to_end");
  /** Learning's gauges (the lag: how old the oldest waiting turn is); {@code null} without learning. */
  static final Map<String, String> LEARNING_GAUGES = ordered("learningLagSeconds", "yaad.agent.learning.lag");

  private OpsSummary() {}

  /**
   * The summary as a JSON-ready map.
   *
   * @param errorCode the API's error code for an HTTP status ({@code 404 → not_found})
   */
  public static Map<String, Object> of(MeterRegistry registry, IntFunction<String> errorCode) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("at", Instant.now().toString());
    out.put("uptimeSeconds", gauge(registry, "process.uptime"));
    out.put("sessionsOpen", gauge(registry, "yaad.agent.sessions.active"));
    out.put("turns", count(registry.find("yaad.agent.speech").tag("kind", "reply").counters()));
    out.put("turnsFailed", count(registry.find("yaad.agent.speech").tag("kind", "reply").tag("outcome", "failed").counters()));
    Map<String, Object> latency = new LinkedHashMap<>();
    TURN_TIMERS.forEach((key, name) -> latency.put(key, timer(registry.find(name).timers())));
    VOICE_TIMERS.forEach((key, name) -> latency.put(key, timer(registry.find(name).timers())));
    out.put("latency", latency);
    out.put("cache", cache(registry));
    Map<String, Object> learning = new LinkedHashMap<>();
    learning.put("queue", gauge(registry, "yaad.agent.learning.queue"));
    learning.put("outbox", gauge(registry, "yaad.agent.learning.outbox"));
    LEARNING_GAUGES.forEach((key, name) -> learning.put(key, gauge(registry, name)));
    out.put("learning", learning);
    Map<String, Double> greetings = new TreeMap<>();
    for (Counter c : registry.find("yaad.agent.greetings").counters()) {
      greetings.merge(c.getId().getTag("outcome"), c.count(), Double::sum);
    }
    out.put("greetings", registry.find("yaad.agent.greetings").counters().isEmpty() ? null : greetings);
    out.put("voiceInterruptions", count(registry.find("yaad.voice.interruptions").counters()));
    out.put("errors", errors(registry, errorCode));
    return out;
  }

  /** Hits and misses per cache level ({@code l1}, {@code l2}): the page charts hit ratios from their changes. */
  private static Map<String, Object> cache(MeterRegistry registry) {
    Map<String, Object> levels = new TreeMap<>();
    for (Counter c : registry.find("yaad.cache.gets").counters()) {
      String level = c.getId().getTag("level");
      String result = c.getId().getTag("result");
      @SuppressWarnings("unchecked")
      Map<String, Double> counts = (Map<String, Double>) levels.computeIfAbsent(level, k -> new TreeMap<String, Double>());
      counts.merge(result, c.count(), Double::sum);
    }
    return levels;
  }

  /**
   * Failed answers by the API's error code: HTTP answers of 400 and above, and replies the LLM
   * failed ({@code llm_unavailable}, the code the session protocol sends).
   */
  private static Map<String, Double> errors(MeterRegistry registry, IntFunction<String> errorCode) {
    Map<String, Double> errors = new TreeMap<>();
    for (Timer t : registry.find("http.server.requests").timers()) {
      String status = t.getId().getTag("status");
      int code = status == null ? 0 : Integer.parseInt(status);
      if (code >= 400 && t.count() > 0) {
        errors.merge(errorCode.apply(code), (double) t.count(), Double::sum);
      }
    }
    Double llmFailed = count(registry.find("yaad.agent.speech").tag("outcome", "failed").counters());
    if (llmFailed != null && llmFailed > 0) {
      errors.merge("llm_unavailable", llmFailed, Double::sum);
    }
    return errors;
  }

  private static Double gauge(MeterRegistry registry, String name) {
    Gauge g = registry.find(name).gauge();
    if (g == null) {
      return null;
    }
    double v = g.value();
    return Double.isNaN(v) ? null : v;
  }

  private static Double count(Collection<Counter> counters) {
    if (counters.isEmpty()) {
      return null;
    }
    return counters.stream().mapToDouble(Counter::count).sum();
  }

  /** Cumulative count and total seconds (all tags summed), and the largest recent value; {@code null} if not registered. */
  private static Map<String, Double> timer(Collection<Timer> timers) {
    if (timers.isEmpty()) {
      return null;
    }
    double count = 0;
    double sum = 0;
    double max = 0;
    for (Timer t : timers) {
      count += t.count();
      sum += t.totalTime(TimeUnit.SECONDS);
      max = Math.max(max, t.max(TimeUnit.SECONDS));
    }
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("count", count);
    out.put("sumSeconds", sum);
    out.put("maxSeconds", max);
    return out;
  }

  private static Map<String, String> ordered(String... keysAndNames) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndNames.length; i += 2) {
      map.put(keysAndNames[i], keysAndNames[i + 1]);
    }
    return map;
  }
}
