package dev.yaad.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.yaad.agent.AgentRuntime;
import dev.yaad.agent.Session;
import dev.yaad.agent.SessionListener;
import dev.yaad.agent.SessionState;
import dev.yaad.agent.Speech;
import dev.yaad.agent.learning.Learned;
import dev.yaad.server.limit.Rate;
import dev.yaad.server.limit.RateLimiter;
import dev.yaad.server.limit.TokenBucket;
import dev.yaad.voice.AudioOut;
import dev.yaad.voice.Voice;
import dev.yaad.voice.VoiceEvent;
import dev.yaad.voice.VoiceSession;
import io.javalin.websocket.WsContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.eclipse.jetty.websocket.api.exceptions.MessageTooLargeException;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.internal.WebSocketCoreSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket connection and the agent session it carries.
 *
 * <p><b>Writes</b> go through a queue to one writer (a virtual thread per connection), so
 * frames never interleave and the threads that produce messages (the session's, the
 * learner's, Jetty's) only ever add to a queue: they never wait for the client. The queue
 * holds at most {@link SessionApi.Settings#maxQueuedBytes()} bytes (what each frame puts on
 * the wire, text or binary); a client that falls that far behind is closed {@code 1013}.
 *
 * <p><b>Reads</b> spend from two token buckets of the session: one message per text frame
 * ({@link SessionApi.Settings#messageRate()}) and its length from the bytes one
 * ({@link SessionApi.Settings#byteRate()}, binary frames too). A frame beyond either is
 * dropped and answered {@code rate_limited}; a client that goes on regardless is closed
 * {@code 1008}. Each greeting and reply spends one model answer from the user's budget
 * ({@link SessionApi.Settings#llmBudget()}); a turn beyond it is answered
 * {@code llm_budget_exhausted}, a connection that would start with a greeting beyond it is
 * told so and closed {@code 1008}.
 *
 * <p><b>Closing</b>: however the socket closes (the client, {@code end}, idle, shutdown, an
 * error), the agent session is closed through its state machine, and nothing more is
 * written once the socket is known to be closed.
 */
final class SessionSocket implements SessionListener {
  private static final Logger log = LoggerFactory.getLogger(SessionSocket.class);
  static final int MAX_TEXT_BYTES = 8 * 1024;
  static final int MAX_TURN_ID_CHARS = 64;
  /** The largest {@code t} a {@code ping} may ask to have echoed, as compact JSON. */
  static final int MAX_PING_ECHO_BYTES = 256;
  private static final String LLM_FAILED = "the language model did not answer (it failed or timed out); say it again";
  private static final String TYPES = "user_text, interrupt, end, ping, audio_start or audio_stop";
  private static final String VOICE_OFF = "this server has no speech engines (voice is off), so it takes no audio (binary"
      + " frames): send user_text instead";
  /** Close code for a client whose audio runs far ahead of real time (as HTTP's 429, in the private range). */
  static final int AUDIO_TOO_FAST = 4429;
  /** How far ahead of the client's playback reply audio is sent: enough for its jitter buffer. */
  static final Duration AUDIO_LEAD = Duration.ofMillis(120);

  /** What the writer does next. */
  private sealed interface Out {}

  /** A text frame and the bytes it puts on the wire. */
  private record Text(String json, long bytes) implements Out {}

  /** Reply audio: 16-bit little-endian PCM lasting {@code nanos} at the client's output rate. */
  private record Binary(ByteBuffer pcm, long bytes, long nanos) implements Out {}

  /** Audio was queued: the writer looks at the audio lane again. */
  private record Wake() implements Out {}

  private static final Wake WAKE = new Wake();

  private record Ping() implements Out {}

  private record Close(int code, String reason) implements Out {}

  private final SessionApi api;
  private final org.eclipse.jetty.websocket.api.Session socket;
  private final String connectionId;
  private final String userId;
  private final SessionApi.Settings settings;
  private final LinkedBlockingQueue<Out> queue = new LinkedBlockingQueue<>();
  private final AtomicLong queuedBytes = new AtomicLong();
  /** Reply audio and the events that must follow it in order ({@code audio_ended}), paced at real time by the writer. */
  private final ConcurrentLinkedQueue<Out> audio = new ConcurrentLinkedQueue<>();
  private final AtomicLong audioQueuedBytes = new AtomicLong();
  private final Voice voice;
  private volatile VoiceSession voiceSession; // set and cleared on Jetty's thread (one message at a time)
  private volatile int outputRate = AudioFormat.DEFAULT_RATE;
  private volatile long playheadNanos; // writer: when the audio sent so far ends playing at the client
  private TokenBucket audioBytes;
  private final TokenBucket messages;
  private final TokenBucket bytes;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicReference<String> closeReason = new AtomicReference<>();
  private final Map<String, Integer> toolCalls = new ConcurrentHashMap<>();
  private final AtomicInteger turns = new AtomicInteger();
  private final LongSupplier bytesIn;
  private final WebRtcSignalling.Peer webrtc;
  private final long startNanos = System.nanoTime();
  private volatile boolean writable = true;
  private volatile Session session;
  private volatile Thread writer;
  private volatile long lastInboundNanos = System.nanoTime();
  private long lastBytesIn = -1; // heartbeat thread only
  private int invalidInARow; // Jetty delivers one connection's messages one at a time
  private int limitedInARow;

  SessionSocket(SessionApi api, WsContext ctx, String userId, SessionApi.Settings settings, Voice voice) {
    this.api = api;
    this.voice = voice;
    this.socket = ctx.session;
    this.connectionId = ctx.sessionId();
    this.userId = userId;
    this.settings = settings;
    this.bytesIn = bytesIn(ctx.session);
    this.messages = settings.messageRate().off() ? null : new TokenBucket(settings.messageRate(), System::nanoTime);
    this.bytes = settings.byteRate().off() ? null : new TokenBucket(settings.byteRate(), System::nanoTime);
    this.webrtc = api.webrtc().peer(new WebRtcHooks(), connectionId);
  }

  String connectionId() {
    return connectionId;
  }

  String userId() {
    return userId;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens the agent session: {@code connecting}, then (the connection being ready) {@code active} and the greeting. */
  void start(AgentRuntime runtime, String lang) {
    writer = Thread.ofVirtual().name("yaad-ws-writer-" + connectionId).start(this::writeLoop);
    Session opened;
    try {
      opened = runtime.open(userId, this);
    } catch (IllegalStateException e) { // the runtime is closing
      closeReason.compareAndSet(null, "shutdown");
      enqueueClose(1001, "server shutting down");
      return;
    }
    session = opened;
    if (closed.get()) {
      opened.close(); // the client left while the session opened: socketClosed saw no session to close
      return;
    }
    log.info("session={} event=start user={} lang={}", opened.id(), userId, lang == null ? "-" : lang);
    send(SessionMessages.state(opened, SessionState.CONNECTING));
    if (runtime.config().greetOnReady() && !spendLlmAnswer()) {
      // The greeting would start as soon as the session is ready; without budget there is nothing to talk with.
      closeReason.compareAndSet(null, "llm budget exhausted");
      opened.close();
      enqueueClose(1008, "the LLM budget of this user is used up for now");
      return;
    }
    opened.language(lang);
    opened.ready();
  }

  /** Spends one model answer of the user's budget; if there is none, says so to the client. */
  private boolean spendLlmAnswer() {
    long wait = api.spendLlmAnswer(userId);
    if (wait == 0) {
      return true;
    }
    send(SessionMessages.error("llm_budget_exhausted", "this user's conversations have used the model as much as this server"
        + " allows (" + settings.llmBudget() + " answers); try again in " + RateLimiter.retryAfterSeconds(wait) + " s"));
    return false;
  }

  /** Refuses the connection before any session exists. */
  void refuse(int code, String reason, String why) {
    closed.set(true);
    writable = false;
    api.forget(this);
    log.info("session event=refused code={} reason={} user={}", code, why, userId);
    socket.close(code, reason);
  }

  /** The socket closed (either side, any code): the session closes through its state machine. */
  void socketClosed(int status, String reason) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    writable = false;
    closeReason.compareAndSet(null, status == 1009 ? "message over " + settings.maxFrameBytes() + " bytes" : "client closed " + status);
    closeVoice();
    Session s = session;
    if (s != null) {
      s.close();
    }
    webrtc.close();
    queue.clear();
    queue.add(new Close(status, reason)); // wakes the writer, which stops
    api.forget(this);
    long ms = Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
    log.info("session={} event=close reason=\"{}\" code={} turns={} duration_ms={}", s == null ? "-" : s.id(),
        closeReason.get(), status, turns.get(), ms);
  }

  /**
   * Jetty reports a failure: a message over the size limit (it closes 1009), or a broken
   * connection (reset, timeout). A close normally follows; do not count on it.
   */
  void socketFailed(Throwable error) {
    if (error instanceof MessageTooLargeException) {
      closeReason.compareAndSet(null, "message over " + settings.maxFrameBytes() + " bytes");
      socketClosed(1009, "message too large");
      return;
    }
    log.debug("session connection {}: {}", connectionId, String.valueOf(error));
    closeReason.compareAndSet(null, "connection lost");
    socketClosed(1006, "connection lost");
  }

  /** Server shutdown: the session closes ({@code closing}, {@code closed} reach the client), then the socket, 1001. */
  void shutDown() {
    closeReason.compareAndSet(null, "shutdown");
    closeVoice();
    webrtc.close();
    Session s = session;
    if (s != null) {
      s.close();
    }
    enqueueClose(1001, "server shutting down");
  }

  /**
   * The user is being deleted: the client is told ({@code error user_deleted}), the session
   * closes ({@code closing}, {@code closed}), then the socket, {@link SessionApi#CLOSE_USER_DELETED}.
   */
  void userDeleted() {
    closeReason.compareAndSet(null, "user deleted");
    send(SessionMessages.error("user_deleted", "this user was deleted, with all their memories; the session is closed"));
    Session s = session;
    if (s != null) {
      s.close();
    }
    enqueueClose(SessionApi.CLOSE_USER_DELETED, "user deleted");
  }

  /** Waits (a little) for the writer to finish, at shutdown. */
  void awaitWriter(long millis) throws InterruptedException {
    Thread w = writer;
    if (w != null) {
      w.join(Duration.ofMillis(Math.max(1, millis)));
    }
  }

  /** Heartbeat tick: close if nothing arrived for the idle timeout, else ping. */
  void beat() {
    if (closed.get()) {
      return;
    }
    long now = System.nanoTime();
    long in = bytesIn.getAsLong();
    if (in != lastBytesIn) {
      lastBytesIn = in;
      lastInboundNanos = now;
    }
    if (in >= 0 && now - lastInboundNanos > settings.idleTimeout().toNanos()) {
      closeReason.compareAndSet(null, "idle");
      closeNow(1001, "idle");
      return;
    }
    if (queuedBytes.get() < settings.maxQueuedBytes()) {
      queue.add(new Ping());
    }
  }

  // ---------------------------------------------------------------- writing

  /** Queues one message; never blocks. Dropped once the socket is closed. */
  void send(String json) {
    long size = utf8Length(json);
    if (reserve(size)) {
      queue.add(new Text(json, size));
    }
  }

  /**
   * Counts {@code size} bytes into the queue, or closes the connection {@code 1013} if they
   * would take it past its bound (the client has stopped reading). Any frame, text or binary,
   * is counted here before it is queued.
   */
  private boolean reserve(long size) {
    if (!writable) {
      return false;
    }
    if (queuedBytes.addAndGet(size) > settings.maxQueuedBytes()) {
      queuedBytes.addAndGet(-size);
      closeReason.compareAndSet(null, "client too slow: " + settings.maxQueuedBytes() + " bytes waiting");
      closeNow(1013, "the client does not read fast enough; reconnect");
      return false;
    }
    return true;
  }

  /**
   * The bytes of {@code text} as UTF-8, what it puts on the wire, without encoding it: 1 for
   * ASCII, 2 below U+0800, 3 above, and 2 for each half of a surrogate pair (4 for the pair).
   */
  static long utf8Length(String text) {
    long n = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      n += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
    }
    return n;
  }

  /** Closes after what is queued has been written (after {@code end}, or too many invalid messages). */
  private void enqueueClose(int code, String reason) {
    queue.add(new Close(code, reason));
  }

  /** Closes at once, dropping what is queued, and closes the session without waiting for the client's close frame. */
  private void closeNow(int code, String reason) {
    writable = false;
    queue.clear();
    audio.clear();
    queue.add(new Close(code, reason));
    Session s = session;
    VoiceSession v = voiceSession;
    voiceSession = null;
    if (s != null || v != null) {
      // Not on the calling thread: it may be one of the session's own (or the pipeline's), inside a listener call.
      Thread.ofVirtual().start(() -> {
        if (v != null) {
          v.close();
        }
        if (s != null) {
          s.close();
        }
      });
    }
    Thread w = writer;
    if (w != null) {
      w.interrupt(); // out of a write the client is not reading
    }
  }

  private void writeLoop() {
    try {
      while (true) {
        Out out = queue.poll();
        if (out == null) {
          long wait = writeDueAudio();
          out = queue.poll(wait < 0 ? TimeUnit.HOURS.toNanos(1) : wait, TimeUnit.NANOSECONDS);
          if (out == null) {
            continue;
          }
        }
        switch (out) {
          case Text t -> {
            queuedBytes.addAndGet(-t.bytes());
            if (writable) {
              socket.getRemote().sendString(t.json());
            }
          }
          case Binary b -> throw new IllegalStateException("audio goes through the audio lane"); // never queued here
          case Wake w -> { }
          case Ping p -> {
            if (writable) {
              socket.getRemote().sendPing(ByteBuffer.allocate(0));
            }
          }
          case Close c -> {
            writable = false;
            if (!closed.get()) {
              socket.close(c.code(), c.reason());
            }
            return;
          }
        }
      }
    } catch (InterruptedException e) {
      // closeNow: the socket is closed below
    } catch (IOException | RuntimeException e) {
      log.debug("session connection {}: write failed: {}", connectionId, e.toString());
    }
    writable = false;
    Out last = queue.poll();
    if (!closed.get()) {
      Close close = last instanceof Close c ? c : new Close(1011, "write failed");
      socket.close(close.code(), close.reason());
    }
  }

  /**
   * Writes the audio lane's next item if it is due: reply audio goes out at real time, at most
   * {@link #AUDIO_LEAD} ahead of the client's playback (what the client's jitter buffer needs),
   * so that what is not yet heard is still here when the user barges in, and
   * {@link AudioOut#stop()} can drop it.
   *
   * @return 0 if an item was written (look again), the nanoseconds until the next is due, or
   *     -1 if the lane is empty
   */
  private long writeDueAudio() throws IOException {
    Out next = audio.peek();
    if (next == null) {
      return -1;
    }
    long now = System.nanoTime();
    if (next instanceof Binary) {
      long playhead = Math.max(playheadNanos, now);
      long ahead = playhead - now - AUDIO_LEAD.toNanos();
      if (ahead > 0) {
        return ahead;
      }
      playheadNanos = playhead;
    }
    Out out = audio.poll(); // stop() may have emptied the lane since the peek
    if (out instanceof Binary b) {
      audioQueuedBytes.addAndGet(-b.bytes());
      if (writable) {
        socket.getRemote().sendBytes(b.pcm());
        playheadNanos += b.nanos();
      }
    } else if (out instanceof Text t && writable) {
      socket.getRemote().sendString(t.json());
    }
    return 0;
  }

  /**
   * The reply audio of this connection: frames are queued for the writer without waiting,
   * bounded by {@link SessionApi.Settings#maxQueuedBytes()} of audio (a frame beyond it is
   * dropped: the pipeline outran the bound, the client is not at fault).
   */
  private final class SocketAudio implements AudioOut {
    private boolean warned; // pipeline's thread

    /** Queues {@code pcm} as 20 ms frames (text-to-speech hands over whole sentences): each goes out when due. */
    @Override
    public void play(short[] pcm) {
      int frame = outputRate / 50;
      for (int from = 0; from < pcm.length && writable; from += frame) {
        if (!queueFrame(pcm, from, Math.min(pcm.length, from + frame))) {
          return;
        }
      }
    }

    private boolean queueFrame(short[] pcm, int from, int to) {
      long size = 2L * (to - from);
      if (audioQueuedBytes.addAndGet(size) > settings.maxQueuedBytes()) {
        audioQueuedBytes.addAndGet(-size);
        if (!warned) {
          warned = true;
          log.warn("session={} event=audio_dropped queued_bytes={}: the voice pipeline queued more reply audio than the"
              + " bound", session == null ? "-" : session.id(), audioQueuedBytes.get());
        }
        return false;
      }
      ByteBuffer bytes = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asShortBuffer().put(pcm, from, to - from);
      boolean wasEmpty = audio.isEmpty();
      audio.add(new Binary(bytes, size, (to - from) * 1_000_000_000L / outputRate));
      if (wasEmpty) {
        queue.add(WAKE);
      }
      return true;
    }

    @Override
    public void stop() {
      audio.removeIf(out -> {
        if (out instanceof Binary b) {
          audioQueuedBytes.addAndGet(-b.bytes());
          return true;
        }
        return false;
      });
      playheadNanos = 0; // the client drops what it holds on interrupted
    }

    @Override
    public long queuedMillis() {
      long unsent = audioQueuedBytes.get() * 1000 / (2L * outputRate);
      long ahead = (playheadNanos - System.nanoTime()) / 1_000_000;
      return unsent + Math.max(0, ahead);
    }
  }

  // ---------------------------------------------------------------- reading

  /**
   * One binary frame: audio, 16-bit little-endian mono PCM at the rate of {@code audio_start}.
   * Never throws: a bad frame is an {@code error} message.
   */
  void receivedAudio(byte[] data, int offset, int length) {
    lastInboundNanos = System.nanoTime();
    if (closed.get() || closeReason.get() != null) { // closing: what the client still sends is not answered
      return;
    }
    if (!withinRates(false, length)) {
      return;
    }
    VoiceSession v = voiceSession;
    if (v == null) {
      if (voice == null) {
        invalid("voice_unavailable", VOICE_OFF);
      } else {
        invalid("audio_not_started", "send {\"type\":\"audio_start\",\"inputRate\":16000} before the first audio frame");
      }
      return;
    }
    if (length == 0 || length % 2 != 0) {
      invalid("invalid_audio", "an audio frame is 16-bit PCM, a whole number of 2-byte samples; this one was " + length + " bytes");
      return;
    }
    if (audioBytes.tryTake(length) != 0) {
      closeReason.compareAndSet(null, "audio faster than real time");
      send(SessionMessages.error("audio_too_fast", "audio is arriving faster than real time (more than "
          + settings.audioBurst().toMillis() + " ms ahead); send it as it is captured"));
      closeVoice();
      Session s = session;
      if (s != null) {
        s.close();
      }
      enqueueClose(AUDIO_TOO_FAST, "audio faster than real time");
      return;
    }
    invalidInARow = 0;
    short[] pcm = new short[length / 2];
    ByteBuffer.wrap(data, offset, length).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(pcm);
    v.accept(pcm);
  }

  /**
   * One client text message of {@code size} bytes (binary frames are {@link #receivedAudio}).
   * Never throws: a bad message is an {@code error} message.
   */
  void received(String text, long size) {
    lastInboundNanos = System.nanoTime();
    if (closed.get()) {
      return;
    }
    if (!withinRates(text != null, size)) {
      return;
    }
    JsonNode message;
    try {
      message = JsonBody.JSON.readTree(text);
    } catch (JsonProcessingException e) {
      invalid("invalid_message", "not JSON: send one JSON object per text frame, such as {\"type\":\"ping\"}");
      return;
    }
    if (message == null || !message.isObject()) {
      invalid("invalid_message", "a message must be one JSON object with a 'type'");
      return;
    }
    JsonNode type = message.get("type");
    if (type == null || !type.isTextual()) {
      invalid("invalid_message", "a message needs a 'type' (a string): " + TYPES);
      return;
    }
    Session s = session;
    if (s == null) {
      return; // refused or not started: nothing to talk to
    }
    switch (type.asText()) {
      case "user_text" -> userText(s, message);
      case "interrupt" -> {
        invalidInARow = 0;
        s.interrupt();
      }
      case "end" -> {
        invalidInARow = 0;
        closeReason.compareAndSet(null, "end");
        s.close(); // closing, closed (and any reply_done) are queued before the close
        enqueueClose(1000, "session ended");
      }
      case "ping" -> {
        JsonNode t = message.get("t");
        long echo = t == null ? 0 : utf8Length(t.toString());
        if (echo > MAX_PING_ECHO_BYTES) {
          invalid("too_large", "'t' is " + echo + " bytes of JSON; a ping echoes at most " + MAX_PING_ECHO_BYTES);
          return;
        }
        invalidInARow = 0;
        send(SessionMessages.pong(t));
      }
      case "audio_start" -> audioStart(s, message);
      case "audio_stop" -> {
        invalidInARow = 0;
        closeVoice();
      }
      case "webrtc_offer", "webrtc_candidate", "webrtc_hangup" -> {
        invalidInARow = 0;
        webrtc.received(type.asText(), message);
      }
      default -> invalid("invalid_message", "unknown message type '" + SessionApi.abbreviate(type.asText())
          + "'; expected " + TYPES);
    }
  }

  /**
   * Spends the frame from the session's buckets: a text frame one message and its bytes, a
   * binary frame its bytes only (audio comes in many small frames). Over a limit, the frame is
   * dropped with a {@code rate_limited} error, and a client that keeps sending is closed 1008.
   */
  private boolean withinRates(boolean textFrame, long size) {
    long wait = textFrame && messages != null ? messages.tryTake(1) : 0;
    String what = "messages";
    Rate rate = settings.messageRate();
    if (wait == 0 && bytes != null) {
      wait = bytes.tryTake(Math.max(1, size));
      what = "bytes";
      rate = settings.byteRate();
    }
    if (wait == 0) {
      limitedInARow = 0;
      return true;
    }
    send(SessionMessages.error("rate_limited", "too many " + what + ": a session may send " + rate + "; this one was dropped;"
        + " wait " + RateLimiter.retryAfterSeconds(wait) + " s"));
    if (++limitedInARow >= settings.maxInvalidInARow()) {
      closeReason.compareAndSet(null, "rate limit: " + limitedInARow + " messages over it in a row");
      Session s = session;
      if (s != null) {
        s.close();
      }
      enqueueClose(1008, "message rate limit exceeded");
    }
    return false;
  }

  /** {@code audio_start}: opens the voice pipeline at the client's rates, and says what it will do. */
  private void audioStart(Session s, JsonNode message) {
    if (voice == null) {
      invalid("voice_unavailable", VOICE_OFF);
      return;
    }
    if (voiceSession != null || webrtc.inCall()) {
      invalid("invalid_message", voiceSession != null ? "audio has started already; send audio_stop first to start again at"
          + " other rates" : "this session's audio travels on a WebRTC call; send webrtc_hangup first");
      return;
    }
    int in = rate(message, "inputRate", AudioFormat.DEFAULT_RATE);
    int out = rate(message, "outputRate", in);
    if (in < 0 || out < 0) {
      return;
    }
    String lang = s.language(); // null: the engines take whatever is spoken
    if (!voice.canListen(lang)) {
      invalid("voice_unavailable", "this server cannot transcribe " + (lang == null ? "speech" : "'" + lang + "' speech")
          + " (" + voice.describe() + ")");
      return;
    }
    invalidInARow = 0;
    audioBytes = new TokenBucket(AudioFormat.rate(in, settings.audioBurst(), SessionApi.Settings.AUDIO_RATE_SLACK),
        System::nanoTime);
    outputRate = out;
    voiceSession = voice.open(s, this::voiceEvent, new SocketAudio(), in, out);
    send(SessionMessages.audioReady(in, out, lang, true, voice.canSpeak(lang)));
  }

  /** The rate in {@code field}, or {@code fallback} if absent; -1 (and an error sent) if it is not one we take. */
  private int rate(JsonNode message, String field, int fallback) {
    JsonNode node = message.get(field);
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.canConvertToInt() || !node.isIntegralNumber() || !AudioFormat.RATES.contains(node.asInt())) {
      invalid("invalid_message", "'" + field + "' must be one of " + AudioFormat.RATES + " (samples a second)");
      return -1;
    }
    return node.asInt();
  }

  /** Stops the voice pipeline of this connection, if any; the text session goes on. */
  private void closeVoice() {
    VoiceSession v = voiceSession;
    voiceSession = null;
    if (v != null) {
      v.close();
    }
  }

  /**
   * The pipeline's events, as JSON: {@code audio_ended} after the reply's last audio frame, and the
   * turn's {@code voice_metrics} after that (it follows {@code audio_ended}, so it must not overtake
   * it); the rest at once.
   */
  private void voiceEvent(VoiceEvent event) {
    String json = SessionMessages.voice(event);
    if (!(event instanceof VoiceEvent.AudioEnded) && !(event instanceof VoiceEvent.TurnMetrics)) {
      send(json);
      return;
    }
    if (writable) {
      boolean wasEmpty = audio.isEmpty();
      audio.add(new Text(json, 0)); // two per reply: the audio bound covers them
      if (wasEmpty) {
        queue.add(WAKE);
      }
    }
  }

  private void userText(Session s, JsonNode message) {
    JsonNode text = message.get("text");
    if (text == null || !text.isTextual()) {
      invalid("invalid_message", "user_text needs 'text', a string");
      return;
    }
    String said = text.asText();
    if (said.isBlank()) {
      invalid("invalid_message", "'text' must not be empty");
      return;
    }
    int bytes = said.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_TEXT_BYTES) {
      invalid("too_large", "'text' is " + bytes + " bytes of UTF-8; the limit is " + MAX_TEXT_BYTES);
      return;
    }
    JsonNode id = message.get("id");
    if (id != null && !id.isNull() && (!id.isTextual() || id.asText().length() > MAX_TURN_ID_CHARS)) {
      invalid("invalid_message", "'id' must be a string of at most " + MAX_TURN_ID_CHARS + " characters");
      return;
    }
    JsonNode lang = message.get("lang");
    if (lang != null && !lang.isNull() && (!lang.isTextual() || !SessionApi.LANGUAGE_TAG.matcher(lang.asText()).matches())) {
      invalid("invalid_message", "'lang' must be a BCP 47 language tag such as ur-PK or en-US");
      return;
    }
    invalidInARow = 0;
    if (s.state() != SessionState.ACTIVE) {
      send(SessionMessages.error("not_ready", "the session is " + s.state().name().toLowerCase(java.util.Locale.ROOT)
          + "; send user_text once it is active"));
      return;
    }
    if (!spendLlmAnswer()) {
      return;
    }
    if (lang != null && !lang.isNull()) {
      s.language(lang.asText());
    }
    s.reply(said, id == null || id.isNull() ? null : id.asText());
  }

  private void invalid(String code, String message) {
    send(SessionMessages.error(code, message));
    if (++invalidInARow >= settings.maxInvalidInARow()) {
      closeReason.compareAndSet(null, invalidInARow + " invalid messages in a row");
      Session s = session;
      if (s != null) {
        s.close();
      }
      enqueueClose(1008, invalidInARow + " invalid messages in a row");
    }
  }

  // ---------------------------------------------------------------- the agent session's events

  @Override
  public void onStateChanged(Session session, SessionState from, SessionState to) {
    send(SessionMessages.state(session, to));
  }

  @Override
  public void onDelta(Session session, Speech speech, String text) {
    send(SessionMessages.delta(speech, text));
  }

  @Override
  public void onToolCall(Session session, Speech speech, String tool, Duration latency, boolean ok) {
    toolCalls.merge(speech.id(), 1, Integer::sum);
    send(SessionMessages.tool(speech, tool, latency, ok));
  }

  /** A tool of this session changed memory: every session of the user hears it, as from background learning. */
  @Override
  public void onLearned(Session session, Speech speech, Learned change) {
    api.learned(change);
  }

  @Override
  public void onSpeechEnded(Session session, Speech speech) {
    boolean failed = speech.outcome() == Speech.Outcome.FAILED;
    send(SessionMessages.done(speech, failed ? LLM_FAILED : null));
    if (failed) {
      send(SessionMessages.error("llm_unavailable", LLM_FAILED));
    }
    int tools = toolCalls.getOrDefault(speech.id(), 0);
    toolCalls.remove(speech.id());
    Duration first = speech.firstDeltaLatency();
    Duration took = speech.duration();
    if (speech.kind() == Speech.Kind.GREETING) {
      log.info("session={} event=greeting outcome={} first_text_ms={} duration_ms={}", session.id(), outcome(speech),
          first == null ? "-" : first.toMillis(), took == null ? "-" : took.toMillis());
    } else {
      turns.incrementAndGet();
      log.info("session={} event=turn speech={} outcome={} first_text_ms={} duration_ms={} tools={}", session.id(),
          speech.id(), outcome(speech), first == null ? "-" : first.toMillis(), took == null ? "-" : took.toMillis(), tools);
    }
  }

  private static String outcome(Speech speech) {
    return speech.outcome().name().toLowerCase(java.util.Locale.ROOT);
  }

  // ---------------------------------------------------------------- WebRTC calls

  /** What this session's call (docs/webrtc.md) needs of it: its queue, and its voice pipeline. */
  private final class WebRtcHooks implements WebRtcSignalling.Socket {
    @Override
    public void send(String json) {
      SessionSocket.this.send(json);
    }

    @Override
    public VoiceSession listen(CallAudio out, int inRate) {
      Session s = session;
      if (voice == null) {
        throw new IllegalStateException(VOICE_OFF);
      }
      if (s == null || s.state() != SessionState.ACTIVE) {
        throw new IllegalStateException("the session is not active; offer a call once it is");
      }
      if (voiceSession != null) {
        throw new IllegalStateException("audio is streaming over this socket (audio_start); send audio_stop first");
      }
      String lang = s.language(); // null: the engines take whatever is spoken
      if (!voice.canListen(lang)) {
        throw new IllegalStateException("this server cannot transcribe " + (lang == null ? "speech" : "'" + lang + "' speech")
            + " (" + voice.describe() + ")");
      }
      VoiceSession opened = voice.open(s, SessionSocket.this::voiceEvent, out, inRate, out.rate());
      send(SessionMessages.audioReady(inRate, out.rate(), lang, true, voice.canSpeak(lang)));
      return opened;
    }
  }

  // ---------------------------------------------------------------- inbound activity

  /**
   * Bytes received on the connection so far, pong frames included, or -1 if Jetty does not
   * say. Javalin's WebSocket API shows messages but not pongs, and Jetty's idle timeout is
   * reset by our own pings, so neither can tell a silent client from a dead one; Jetty's
   * connection counts every byte read. This reaches into Jetty's websocket-core internals
   * (the one place that does): if they change, idle detection is off and the log says so.
   */
  private static LongSupplier bytesIn(org.eclipse.jetty.websocket.api.Session session) {
    try {
      if (session instanceof WebSocketSession s && s.getCoreSession() instanceof WebSocketCoreSession core
          && core.getConnection() != null) {
        var connection = core.getConnection();
        return connection::getBytesIn;
      }
    } catch (RuntimeException | LinkageError e) {
      log.debug("session: cannot read Jetty's inbound byte count: {}", e.toString());
    }
    log.warn("session: Jetty does not expose the inbound byte count; idle connections are not detected");
    return () -> -1;
  }
}
