package dev.yaad.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A real HTTP server on loopback that speaks the OpenAI chat-completions protocol and
 * answers from rules: the test double at the network boundary, so that Yaad's real
 * LangChain4j client code runs in tests and benchmarks without any LLM.
 *
 * <p>It serves {@code POST /v1/chat/completions} with and without {@code "stream": true}
 * (SSE {@code data:} chunks ending with {@code data: [DONE]}, tool calls streamed as
 * {@code tool_calls} deltas), and {@code GET /v1/models}. Each request is parsed into a
 * {@link Call}; the first {@link #rule rule} whose condition matches answers it, else the
 * built-in rules do: they answer a greeting, a JSON extraction, a profile, or a
 * conversational reply (calling a memory tool when the user says "remember that ...", "what
 * do you know about me", "forget ..."). Which of Yaad's tasks a request is ({@link Purpose})
 * is read from the request as a provider would see it; Yaad adds nothing to its prompts for
 * this server.
 *
 * <p>Latency ({@link #latency}: time to first token, then per token, due from the request's
 * arrival; {@link #behindScheduleMs} tells how late this server wrote) and failures
 * ({@link #fail}: an HTTP status such as 500 or 429; {@link #hang}: no answer until the
 * client gives up or the server closes) are configurable at any time and apply to the
 * next requests. Every request is recorded ({@link #calls}, {@link #count}).
 *
 * <p>Requests run on virtual threads, so thousands of concurrent streams are cheap. It lives
 * in the {@code yaad-testing} module: a test dependency of the agent and the server, a
 * run-time one of yaad-bench only, so the server's jar does not carry it.
 */
public final class ScriptedLlmServer implements AutoCloseable {
  /**
   * Which of Yaad's LLM tasks a request is, read from the request itself: an extraction asks
   * for a JSON response ({@code response_format} {@code json_object}); a greeting and a profile
   * refresh are known by the opening words of their system prompts (Yaad's {@code Prompts});
   * anything else is a conversation turn.
   */
  public enum Purpose {
    GREETING, EXTRACT, PROFILE, CONVERSATION;

    /** The opening words of Yaad's greeting prompt ({@code Prompts.GREETING}). */
    static final String GREETING_OPENING = "Greet the user as their companion";
    /** The opening words of Yaad's profile prompt ({@code Prompts.PROFILE}). */
    static final String PROFILE_OPENING = "Write a short profile";

    static Purpose of(JsonNode body, String systemPrompt) {
      if (body.path("response_format").path("type").asText("").startsWith("json")) {
        return EXTRACT;
      }
      if (systemPrompt.startsWith(GREETING_OPENING)) {
        return GREETING;
      }
      return systemPrompt.startsWith(PROFILE_OPENING) ? PROFILE : CONVERSATION;
    }
  }

  /**
   * One chat-completions request as the server saw it.
   *
   * @param purpose         which task the request is ({@link Purpose})
   * @param stream          whether the client asked for SSE
   * @param systemPrompt    the first system message, or ""
   * @param lastUserMessage the text of the last user message, or ""
   * @param toolNames       the names of the tools offered
   * @param toolResults     the contents of tool-result messages after the last user message
   * @param body            the whole request
   */
  public record Call(
      Purpose purpose, boolean stream, String systemPrompt, String lastUserMessage,
      List<String> toolNames, List<String> toolResults, JsonNode body) {

    public boolean hasToolResults() {
      return !toolResults.isEmpty();
    }

    /** All user messages' text joined by newlines (what an extraction request is about). */
    public String userText() {
      StringBuilder text = new StringBuilder();
      for (JsonNode m : body.path("messages")) {
        if ("user".equals(m.path("role").asText())) {
          text.append(m.path("content").asText()).append('\n');
        }
      }
      return text.toString();
    }
  }

  /** What the server answers: text, tool calls, an HTTP error, or nothing (a hang). */
  public sealed interface Answer {
    record Text(String text) implements Answer {}

    record ToolCalls(List<ToolCall> calls) implements Answer {}

    record Error(int status, String message) implements Answer {}

    record Hang() implements Answer {}

    static Answer text(String text) {
      return new Text(text);
    }

    static Answer toolCall(String name, String argumentsJson) {
      return new ToolCalls(List.of(new ToolCall(name, argumentsJson)));
    }

    static Answer error(int status) {
      return new Error(status, status == 429 ? "rate limited (scripted)" : "server error (scripted)");
    }
  }

  public record ToolCall(String name, String argumentsJson) {}

  private record Rule(Predicate<Call> when, Function<Call, Answer> answer) {}

  private record Failure(Purpose purpose, Answer answer, AtomicInteger remaining) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
  private final Map<Purpose, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile long firstTokenNanos;
  private volatile long perTokenNanos;
  private volatile boolean recordCalls = true;
  private volatile BiConsumer<Call, Long> onLate = (call, nanos) -> { };
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger peakInFlight = new AtomicInteger();
  /** Chunks written behind their schedule, counted by whole milliseconds late (the last slot: that or more). */
  private final AtomicLongArray behindSchedule = new AtomicLongArray(10_001);

  private final Loopback loopback;

  private ScriptedLlmServer() {
    for (Purpose p : Purpose.values()) {
      counts.put(p, new AtomicInteger());
    }
    loopback = new Loopback("scripted LLM server", this::handle); // last: it serves at once
  }

  /** Starts a server on a free loopback port with no latency and the built-in rules. */
  public static ScriptedLlmServer start() {
    return new ScriptedLlmServer();
  }

  /** The OpenAI-style base URL, e.g. {@code http://127.0.0.1:41234/v1}. */
  public String baseUrl() {
    return loopback.baseUrl();
  }

  /** Waits {@code firstToken} before the first chunk and {@code perToken} between chunks. */
  public ScriptedLlmServer latency(Duration firstToken, Duration perToken) {
    this.firstTokenNanos = firstToken.toNanos();
    this.perTokenNanos = perToken.toNanos();
    return this;
  }

  public Duration firstTokenLatency() {
    return Duration.ofNanos(firstTokenNanos);
  }

  public Duration perTokenLatency() {
    return Duration.ofNanos(perTokenNanos);
  }

  /** Answers matching requests with {@code answer}, before the built-in rules and after earlier rules. */
  public ScriptedLlmServer rule(Predicate<Call> when, Function<Call, Answer> answer) {
    rules.add(new Rule(when, answer));
    return this;
  }

  /** Answers matching requests of one purpose ({@code null}: any) with a fixed text. */
  public ScriptedLlmServer rule(Purpose purpose, Function<Call, Answer> answer) {
    return rule(c -> purpose == null || c.purpose() == purpose, answer);
  }

  /** Fails the next {@code times} requests of {@code purpose} ({@code null}: any) with an HTTP status. */
  public ScriptedLlmServer fail(Purpose purpose, int times, int status) {
    failures.add(new Failure(purpose, Answer.error(status), new AtomicInteger(times)));
    return this;
  }

  /** Does not answer the next {@code times} requests of {@code purpose} until the client gives up. */
  public ScriptedLlmServer hang(Purpose purpose, int times) {
    failures.add(new Failure(purpose, new Answer.Hang(), new AtomicInteger(times)));
    return this;
  }

  /** Whether to keep every {@link Call} (on by default; benchmarks turn it off to save memory). */
  public ScriptedLlmServer recordCalls(boolean record) {
    this.recordCalls = record;
    return this;
  }

  /**
   * Told, after each answer that kept a schedule, how many nanoseconds late (0 if on time) its
   * chunk that the client waits for was written: a streamed reply's first, a streamed tool
   * call's last (its arguments complete), a whole answer. A benchmark on the same machine
   * subtracts it from the turn the call belongs to: the part of the turn's latency that a
   * remote provider would not have added. Runs on the request's thread; keep it quick.
   */
  public ScriptedLlmServer onLate(BiConsumer<Call, Long> listener) {
    this.onLate = Objects.requireNonNull(listener, "listener");
    return this;
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  public List<Call> calls(Purpose purpose) {
    return calls.stream().filter(c -> c.purpose() == purpose).toList();
  }

  /** Requests received for one purpose, recorded or not (failed and hung ones included). */
  public int count(Purpose purpose) {
    return counts.get(purpose).get();
  }

  /** The most chat requests that were being answered at one time since start (or the last reset). */
  public int peakInFlight() {
    return peakInFlight.get();
  }

  public void resetPeakInFlight() {
    peakInFlight.set(inFlight.get());
  }

  /**
   * How far behind its schedule each scripted chunk (and each whole non-streamed answer) was
   * written: element {@code i} counts those {@code i} ms late, the last element those
   * {@code 10,000} ms or more. Only this server's own delays show here (its threads starved of
   * CPU, its rules slow), never the client's: a benchmark on one machine reads it as the part of
   * a turn's latency that a remote provider would not have added.
   */
  public long[] behindScheduleMs() {
    long[] counts = new long[behindSchedule.length()];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = behindSchedule.get(i);
    }
    return counts;
  }

  public void clearCalls() {
    calls.clear();
  }

  @Override
  public void close() {
    loopback.close();
  }

  // ---------------------------------------------------------------- request handling

  private void handle(HttpExchange exchange) throws IOException {
    Schedule schedule = new Schedule(System.nanoTime());
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if ("GET".equals(exchange.getRequestMethod()) && path.endsWith("/models")) {
        Loopback.respondJson(exchange, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"scripted\",\"object\":\"model\"}]}");
        return;
      }
      JsonNode body = Loopback.postedJson(exchange, "/chat/completions");
      if (body == null) {
        return;
      }
      Call call = parse(body);
      counts.get(call.purpose()).incrementAndGet();
      if (recordCalls) {
        calls.add(call);
      }
      Answer answer = scriptedFailure(call.purpose());
      if (answer == null) {
        answer = answer(call);
      }
      peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      // The call leaves the count before its last bytes are written: a client that has read them
      // may start its next call before this thread returns, and must not be counted twice.
      AtomicBoolean counted = new AtomicBoolean(true);
      Runnable ending = () -> {
        if (counted.getAndSet(false)) {
          inFlight.decrementAndGet();
        }
      };
      try {
        switch (answer) {
          case Answer.Error e -> Loopback.respondJson(exchange, e.status(), Loopback.errorJson(e.message()), ending);
          case Answer.Hang h -> loopback.hang();
          case Answer.Text t when call.stream() -> {
            streamText(exchange, body, t.text(), ending, schedule);
            onLate.accept(call, schedule.firstLateNanos);
          }
          case Answer.Text t -> {
            schedule.skip(tokens(t.text()).size() - 1);
            schedule.await();
            Loopback.respondJson(exchange, 200, completion(body, t.text(), List.of()).toString(), ending);
            onLate.accept(call, schedule.lastLateNanos);
          }
          case Answer.ToolCalls tc when call.stream() -> {
            streamToolCalls(exchange, body, tc.calls(), ending, schedule);
            onLate.accept(call, schedule.lastLateNanos);
          }
          case Answer.ToolCalls tc -> {
            schedule.await();
            Loopback.respondJson(exchange, 200, completion(body, null, tc.calls()).toString(), ending);
            onLate.accept(call, schedule.lastLateNanos);
          }
        }
      } finally {
        ending.run();
      }
    } catch (IOException e) {
      // The client went away (a cancelled stream): nothing to answer.
    }
  }

  private Answer scriptedFailure(Purpose purpose) {
    for (Failure f : failures) {
      if ((f.purpose() == null || f.purpose() == purpose) && f.remaining().getAndDecrement() > 0) {
        return f.answer();
      }
    }
    failures.removeIf(f -> f.remaining().get() <= 0);
    return null;
  }

  private Answer answer(Call call) {
    for (Rule rule : rules) {
      if (rule.when().test(call)) {
        return rule.answer().apply(call);
      }
    }
    return BuiltInRules.answer(call);
  }

  private static Call parse(JsonNode body) {
    String system = "";
    String lastUser = "";
    List<String> toolResults = new ArrayList<>();
    for (JsonNode m : body.path("messages")) {
      String role = m.path("role").asText();
      String content = text(m.path("content"));
      switch (role) {
        case "system" -> system = system.isEmpty() ? content : system;
        case "user" -> {
          lastUser = content;
          toolResults.clear();
        }
        case "tool" -> toolResults.add(content);
        default -> { }
      }
    }
    List<String> tools = new ArrayList<>();
    for (JsonNode t : body.path("tools")) {
      tools.add(t.path("function").path("name").asText());
    }
    return new Call(Purpose.of(body, system), body.path("stream").asBoolean(false), system, lastUser,
        List.copyOf(tools), List.copyOf(toolResults), body);
  }

  /** Message content is a string or a list of parts ({@code [{"type":"text","text":...}]}). */
  private static String text(JsonNode content) {
    if (content.isArray()) {
      StringBuilder s = new StringBuilder();
      content.forEach(part -> s.append(part.path("text").asText()));
      return s.toString();
    }
    return content.isNull() || content.isMissingNode() ? "" : content.asText();
  }

  // ---------------------------------------------------------------- wire format

  private void streamText(HttpExchange exchange, JsonNode request, String text, Runnable ending, Schedule schedule)
      throws IOException {
    String id = "chatcmpl-" + ids.incrementAndGet();
    try (OutputStream out = startStream(exchange)) {
      List<String> tokens = tokens(text);
      for (int i = 0; i < tokens.size(); i++) {
        schedule.await();
        ObjectNode delta = JSON.createObjectNode();
        if (i == 0) {
          delta.put("role", "assistant");
        }
        delta.put("content", tokens.get(i));
        send(out, chunk(request, id, delta, null));
      }
      ending.run(); // before the finish: a client may start its next call once it has read it
      send(out, chunk(request, id, JSON.createObjectNode(), "stop"));
      finishStream(out, request, id, tokens.size());
    }
  }

  private void streamToolCalls(HttpExchange exchange, JsonNode request, List<ToolCall> toolCalls, Runnable ending,
      Schedule schedule) throws IOException {
    String id = "chatcmpl-" + ids.incrementAndGet();
    try (OutputStream out = startStream(exchange)) {
      schedule.await();
      for (int i = 0; i < toolCalls.size(); i++) {
        ToolCall tc = toolCalls.get(i);
        ObjectNode head = JSON.createObjectNode();
        if (i == 0) {
          head.putNull("content");
          head.put("role", "assistant");
        }
        ObjectNode call = head.putArray("tool_calls").addObject();
        call.put("index", i).put("id", "call_" + id.substring(9) + "_" + i).put("type", "function");
        call.putObject("function").put("name", tc.name()).put("arguments", "");
        send(out, chunk(request, id, head, null));
        // Arguments arrive in pieces, as real providers send them.
        String args = tc.argumentsJson();
        for (int from = 0; from < args.length(); from += 8) {
          schedule.await();
          ObjectNode delta = JSON.createObjectNode();
          ObjectNode part = delta.putArray("tool_calls").addObject();
          part.put("index", i);
          part.putObject("function").put("arguments", args.substring(from, Math.min(args.length(), from + 8)));
          send(out, chunk(request, id, delta, null));
        }
      }
      ending.run();
      send(out, chunk(request, id, JSON.createObjectNode(), "tool_calls"));
      finishStream(out, request, id, toolCalls.size() * 10);
    }
  }

  /**
   * When one answer's chunks are due: the first {@code firstToken} after the request arrived,
   * each next one {@code perToken} after the one before was due. So a chunk written late (this
   * server starved of CPU) does not push back the ones after it, as a remote provider's pace
   * does not depend on the machine its client runs on.
   */
  private final class Schedule {
    private long due;
    /** How late the first and the latest awaited chunk were written, in nanoseconds (0 before the first). */
    long firstLateNanos;
    long lastLateNanos;
    private boolean awaited;

    Schedule(long arrived) {
      due = arrived + firstTokenNanos;
    }

    /** Waits until the next chunk is due, notes how late that leaves it, and moves on to the one after. */
    void await() {
      loopback.pauseUntil(due);
      lastLateNanos = Math.max(0, System.nanoTime() - due);
      if (!awaited) {
        awaited = true;
        firstLateNanos = lastLateNanos;
      }
      long lateMs = TimeUnit.NANOSECONDS.toMillis(lastLateNanos);
      behindSchedule.incrementAndGet((int) Math.min(lateMs, behindSchedule.length() - 1));
      due += perTokenNanos;
    }

    /** Moves the next chunk's due time on by {@code chunks} tokens (an answer sent whole when its last token would be). */
    void skip(int chunks) {
      due += perTokenNanos * Math.max(0, chunks);
    }
  }

  private static OutputStream startStream(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    exchange.sendResponseHeaders(200, 0); // chunked
    return exchange.getResponseBody();
  }

  private void finishStream(OutputStream out, JsonNode request, String id, int completionTokens) throws IOException {
    if (request.path("stream_options").path("include_usage").asBoolean(false)) {
      ObjectNode usage = JSON.createObjectNode();
      usage.put("id", id).put("object", "chat.completion.chunk").put("created", System.currentTimeMillis() / 1000)
          .put("model", request.path("model").asText("scripted"));
      usage.putArray("choices");
      usage.set("usage", usage(request, completionTokens));
      send(out, usage.toString());
    }
    send(out, "[DONE]");
  }

  private static void send(OutputStream out, String data) throws IOException {
    out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static String chunk(JsonNode request, String id, ObjectNode delta, String finishReason) {
    ObjectNode chunk = JSON.createObjectNode();
    chunk.put("id", id).put("object", "chat.completion.chunk").put("created", System.currentTimeMillis() / 1000)
        .put("model", request.path("model").asText("scripted"));
    ObjectNode choice = chunk.putArray("choices").addObject();
    choice.put("index", 0);
    choice.set("delta", delta);
    if (finishReason == null) {
      choice.putNull("finish_reason");
    } else {
      choice.put("finish_reason", finishReason);
    }
    return chunk.toString();
  }

  private ObjectNode completion(JsonNode request, String text, List<ToolCall> toolCalls) {
    String id = "chatcmpl-" + ids.incrementAndGet();
    ObjectNode root = JSON.createObjectNode();
    root.put("id", id).put("object", "chat.completion").put("created", System.currentTimeMillis() / 1000)
        .put("model", request.path("model").asText("scripted"));
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    if (text == null) {
      message.putNull("content");
      ArrayNode calls = message.putArray("tool_calls");
      for (int i = 0; i < toolCalls.size(); i++) {
        ObjectNode call = calls.addObject();
        call.put("id", "call_" + id.substring(9) + "_" + i).put("type", "function");
        call.putObject("function").put("name", toolCalls.get(i).name()).put("arguments", toolCalls.get(i).argumentsJson());
      }
      choice.put("finish_reason", "tool_calls");
    } else {
      message.put("content", text);
      choice.put("finish_reason", "stop");
    }
    root.set("usage", usage(request, text == null ? 10 : tokens(text).size()));
    return root;
  }

  private static ObjectNode usage(JsonNode request, int completionTokens) {
    int prompt = request.path("messages").toString().length() / 4;
    ObjectNode usage = JSON.createObjectNode();
    usage.put("prompt_tokens", prompt).put("completion_tokens", completionTokens)
        .put("total_tokens", prompt + completionTokens);
    return usage;
  }

  /** Words with their following space: one streamed chunk each, roughly a token. */
  static List<String> tokens(String text) {
    List<String> tokens = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) == ' ') {
        tokens.add(text.substring(start, i + 1));
        start = i + 1;
      }
    }
    if (start < text.length()) {
      tokens.add(text.substring(start));
    }
    return tokens;
  }
}
