package dev.yaad.agent;

import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.yaad.agent.learning.Learned;
import dev.yaad.agent.learning.LearningSink;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.Prompts;
import dev.yaad.memory.Snapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One caller's conversation with the companion, from the moment they join until they leave.
 *
 * <p><b>Lifecycle.</b> A session starts {@link SessionState#CONNECTING} and at once starts
 * loading the user's snapshot. {@link #ready()} (the caller's connection can carry speech)
 * makes it {@link SessionState#ACTIVE} and, by default, greets. {@link #close()} (the caller
 * left) makes it {@link SessionState#CLOSING}, cancels everything it started (greeting,
 * reply, LLM streams, tool calls), hands its last turns to background learning, and makes
 * it {@link SessionState#CLOSED}. Transitions are atomic and each is reported once to the
 * {@link SessionListener}s.
 *
 * <p><b>Never after leaving, never throwing.</b> Text is delivered to listeners under the
 * same lock as state changes, and only while the session is {@code ACTIVE}: once a listener
 * has seen {@code CLOSING}, no delta follows. {@link #greet()}, {@link #reply} and
 * {@link #say} on a session that is not active return a {@link Speech} that is already
 * {@link Speech.Outcome#CANCELLED}; no method of a session throws because it is closing.
 *
 * <p><b>Turns.</b> {@link #reply} takes what the user said and streams the companion's
 * answer, letting the model call the memory tools (bound to this session's user). A new
 * user turn while the companion speaks interrupts it (barge-in): the old speech ends
 * {@link Speech.Outcome#INTERRUPTED}, and history keeps only the part already delivered.
 *
 * <p>Thread-safe. Sessions are made by {@link AgentRuntime#open}, which hands each one what
 * it shares with the others (LLM, memory, metrics, threads, learning) as a {@link SessionContext}.
 */
public final class Session {
  private static final Logger log = LoggerFactory.getLogger(Session.class);

  private final SessionContext context;
  private final String id;
  private final String userId;
  private final ReentrantLock lock = new ReentrantLock();
  private final List<SessionListener> listeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Snapshot> snapshot;
  private final History history;
  private final ToolLoop toolLoop;
  private final Set<Future<?>> work = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final java.util.concurrent.atomic.AtomicInteger speechIds = new java.util.concurrent.atomic.AtomicInteger();
  private volatile String language;

  private volatile SessionState state = SessionState.CONNECTING; // written under lock
  private Speech current; // guarded by lock
  private Speech greeting; // guarded by lock
  private volatile long readyNanos;

  Session(SessionContext context, String id, String userId, List<SessionListener> initial) {
    this.context = context;
    this.id = id;
    this.userId = userId;
    this.listeners.addAll(initial);
    this.history = new History(context.config().historyTurns());
    this.toolLoop = new ToolLoop(this, context, new MemoryTools(userId, context.memory(), java.time.Instant.now()));
    this.snapshot = preload();
  }

  /** Starts the snapshot load at once, so that it is ready (normally) before the greeting needs it. */
  private CompletableFuture<Snapshot> preload() {
    CompletableFuture<Snapshot> future = new CompletableFuture<>();
    try {
      Future<?> task = context.work().submit(() -> {
        try {
          context.memory().preload(userId);
          future.complete(context.memory().snapshot(userId));
        } catch (RuntimeException e) {
          log.warn("session {}: snapshot of user {} failed; greeting without it: {}", id, userId, e.toString());
          future.completeExceptionally(e);
        }
      });
      work.add(task);
      future.whenComplete((s, e) -> work.remove(task));
    } catch (RejectedExecutionException e) {
      future.completeExceptionally(e);
    }
    return future;
  }

  public String id() {
    return id;
  }

  /** The user this session speaks with; every memory tool is bound to it. */
  public String userId() {
    return userId;
  }

  public SessionState state() {
    return state;
  }

  /**
   * The language the person speaks and wants replies in (a BCP 47 tag such as {@code ur-PK}),
   * or {@code null} to follow whatever they speak. Applies from the next greeting or reply.
   */
  public void language(String bcp47Tag) {
    this.language = bcp47Tag == null || bcp47Tag.isBlank() ? null : bcp47Tag.strip();
  }

  public String language() {
    return language;
  }

  public void addListener(SessionListener listener) {
    listeners.add(listener);
  }

  public void removeListener(SessionListener listener) {
    listeners.remove(listener);
  }

  /** Completes when the session is {@link SessionState#CLOSED}. */
  public CompletionStage<Void> closed() {
    return closed;
  }

  /** The user's snapshot as loaded at session start (completes exceptionally if loading failed). */
  public CompletionStage<Snapshot> snapshot() {
    return snapshot.copy();
  }

  /**
   * The caller's connection is ready: {@code CONNECTING → ACTIVE}, then the greeting starts
   * if {@link AgentConfig#greetOnReady()}.
   *
   * @return false (and nothing happens) if the session was not {@code CONNECTING}
   */
  public boolean ready() {
    lock.lock();
    try {
      if (state != SessionState.CONNECTING) {
        return false;
      }
      readyNanos = System.nanoTime();
      transition(SessionState.ACTIVE);
    } finally {
      lock.unlock();
    }
    if (context.config().greetOnReady()) {
      greet();
    }
    return true;
  }

  /**
   * Greets the user, personally if their snapshot has something to say. At most one
   * greeting per session: a second call returns the first greeting's handle; a call after
   * the conversation has started returns a cancelled handle.
   */
  public Speech greet() {
    Speech speech;
    lock.lock();
    try {
      if (greeting != null) {
        return greeting;
      }
      if (state != SessionState.ACTIVE || (current != null && !current.isDone()) || !history.isEmpty()) {
        return Speech.cancelled(Speech.Kind.GREETING, null);
      }
      speech = new Speech(Speech.Kind.GREETING, "g-" + speechIds.incrementAndGet(), null);
      greeting = speech;
      start(speech);
    } finally {
      lock.unlock();
    }
    long waitMs = context.config().greetingSnapshotWait().toMillis();
    snapshot.copy()
        .completeOnTimeout(null, waitMs, TimeUnit.MILLISECONDS)
        .handle((snap, error) -> snap) // a failed or late snapshot: greet without it
        .thenAccept(snap -> {
          if (speech.isDone()) {
            return;
          }
          stream(speech, "greeting", ChatRequest.builder().messages(Prompts.greeting(snap, language)).build(),
              response -> complete(speech));
        });
    return speech;
  }

  /**
   * One user turn: {@code userText} in, the companion's reply streamed to the listeners.
   * Interrupts whatever the companion was saying.
   *
   * @return the reply's handle; already cancelled if the session is not active or the text is blank
   */
  public Speech reply(String userText) {
    return reply(userText, null);
  }

  /**
   * {@link #reply(String)} with the caller's id for the turn, echoed by {@link Speech#turnId()}.
   */
  public Speech reply(String userText, String turnId) {
    Speech speech = new Speech(Speech.Kind.REPLY, "r-" + speechIds.incrementAndGet(), turnId);
    if (userText == null || userText.isBlank() || !takeTurn(speech)) {
      return Speech.cancelled(Speech.Kind.REPLY, turnId);
    }
    speech.userText = userText.strip();
    history.user(speech.userText);
    Snapshot snap = snapshot.isDone() && !snapshot.isCompletedExceptionally() ? snapshot.getNow(null) : null;
    List<ChatMessage> messages = new ArrayList<>();
    messages.add(SystemMessage.from(Prompts.conversation(context.config().systemPrompt(), snap, language)));
    messages.addAll(history.messages());
    toolLoop.start(speech, messages);
    return speech;
  }

  /**
   * Makes {@code speech} the one being spoken, interrupting whatever the companion was
   * saying (barge-in); false, with nothing changed, if the session is not active.
   */
  private boolean takeTurn(Speech speech) {
    Speech interrupted;
    lock.lock();
    try {
      if (state != SessionState.ACTIVE) {
        return false;
      }
      interrupted = current;
      start(speech);
    } finally {
      lock.unlock();
    }
    if (interrupted != null) {
      end(interrupted, Speech.Outcome.INTERRUPTED, null);
    }
    return true;
  }

  /**
   * Speaks a fixed text (no LLM), e.g. a notice from the application. Interrupts whatever
   * the companion was saying.
   */
  public Speech say(String text) {
    Speech speech = new Speech(Speech.Kind.SAY, "s-" + speechIds.incrementAndGet(), null);
    if (text == null || text.isEmpty() || !takeTurn(speech)) {
      return Speech.cancelled(Speech.Kind.SAY, null);
    }
    if (deliver(speech, text)) {
      end(speech, Speech.Outcome.COMPLETED, null);
    }
    return speech;
  }

  /** The user started speaking: whatever the companion is saying stops ({@code INTERRUPTED}). */
  public void interrupt() {
    Speech c;
    lock.lock();
    try {
      c = current;
    } finally {
      lock.unlock();
    }
    if (c != null) {
      end(c, Speech.Outcome.INTERRUPTED, null);
    }
  }

  /**
   * The user barged in on {@code speech} and heard only {@code heardText} of it (a voice pipeline
   * knows how much of the reply's audio was played): if the speech still goes on it ends
   * {@link Speech.Outcome#INTERRUPTED} and its LLM stream is cancelled; either way the history keeps
   * exactly {@code heardText} as what the companion said (nothing, if it is blank), never the
   * full text. A speech that had already completed keeps its outcome. Learning, if the reply
   * had already completed, already has its full text.
   *
   * @param speech    a speech of this session
   * @param heardText a prefix of {@link Speech#text()}, or any text the user is known to have heard
   */
  public void interrupted(Speech speech, String heardText) {
    String heard = heardText == null ? "" : heardText.strip();
    synchronized (speech) {
      speech.heard = heard;
      if (speech.kept != null) { // it ended and its text is in the history already: cut it
        speech.kept = history.replace(speech.kept, heard);
        return;
      }
    }
    end(speech, Speech.Outcome.INTERRUPTED, null);
  }

  /** User turns kept in short-term history (bounded by {@link AgentConfig#historyTurns()}). */
  public int historyTurns() {
    return history.userTurns();
  }

  /**
   * The caller left: cancels all of the session's work, hands its turns to background
   * learning and ends {@code CLOSED}. Idempotent; returns when the session is closed.
   */
  public void close() {
    lock.lock();
    try {
      if (state == SessionState.CLOSING || state == SessionState.CLOSED) {
        return;
      }
      transition(SessionState.CLOSING);
    } finally {
      lock.unlock();
    }
    snapshot.cancel(false);
    Speech c;
    Speech g;
    lock.lock();
    try {
      c = current;
      g = greeting;
    } finally {
      lock.unlock();
    }
    if (c != null) {
      end(c, Speech.Outcome.CANCELLED, null);
    }
    if (g != null) {
      end(g, Speech.Outcome.CANCELLED, null);
    }
    for (Future<?> f : work) {
      f.cancel(true);
    }
    context.closing().accept(this);
    context.learning().sessionEnded(userId, id);
    lock.lock();
    try {
      transition(SessionState.CLOSED);
    } finally {
      lock.unlock();
    }
    closed.complete(null);
  }

  // ---------------------------------------------------------------- internals

  /** Makes {@code speech} the current one and announces it; caller holds the lock. */
  private void start(Speech speech) {
    current = speech;
    speech.onCancel = () -> afterEnd(speech);
    for (SessionListener l : listeners) {
      safely(() -> l.onSpeechStarted(this, speech));
    }
  }

  private void transition(SessionState to) {
    SessionState from = state;
    state = to;
    context.metrics().sessionStateChanged(from, to);
    for (SessionListener l : listeners) {
      safely(() -> l.onStateChanged(this, from, to));
    }
    log.debug("session {}: {} -> {}", id, from, to);
  }

  /** Delivers one delta if the session is active and the speech live; false otherwise. */
  private boolean deliver(Speech speech, String delta) {
    boolean first;
    lock.lock();
    try {
      if (state != SessionState.ACTIVE || speech.isDone()) {
        return false;
      }
      first = speech.firstDeltaLatency() == null;
      speech.append(delta);
      for (SessionListener l : listeners) {
        safely(() -> l.onDelta(this, speech, delta));
      }
    } finally {
      lock.unlock();
    }
    if (first) {
      long now = System.nanoTime();
      if (speech.kind() == Speech.Kind.GREETING) {
        context.metrics().greetingFirstToken(Duration.ofNanos(now - readyNanos));
      } else if (speech.kind() == Speech.Kind.REPLY) {
        Duration firstToken = Duration.ofNanos(now - speech.startNanos());
        context.metrics().replyFirstToken(firstToken);
        context.learning().replyStarted(firstToken);
      }
    }
    return true;
  }

  private void end(Speech speech, Speech.Outcome how, Throwable error) {
    if (speech.finish(how, error)) {
      afterEnd(speech);
    }
  }

  /** Runs once per speech, however it ended. */
  private void afterEnd(Speech speech) {
    Llm.Stream stream = speech.stream;
    if (stream != null) {
      stream.cancel();
    }
    String said;
    synchronized (speech) { // against interrupted(): the heard text, if known, is what history keeps
      said = speech.heard != null ? speech.heard : speech.text();
      speech.kept = history.assistant(said);
    }
    // Handed to learning before any listener hears that the speech ended: a caller who hangs
    // up on reply_done ends the session after this, so its end always finds its last turn queued.
    if (speech.kind() == Speech.Kind.REPLY && speech.userText != null) {
      boolean kept = context.learning().turnCompleted(userId, id, speech.userText, said);
      if (context.learning() != LearningSink.NONE) {
        speech.learning = kept ? Speech.Learning.QUEUED : Speech.Learning.DROPPED;
      }
    }
    lock.lock();
    try {
      if (current == speech) {
        current = null;
      }
      for (SessionListener l : listeners) {
        safely(() -> l.onSpeechEnded(this, speech));
      }
    } finally {
      lock.unlock();
    }
    context.metrics().speechEnded(speech.kind(), speech.outcome(), speech.duration());
    if (speech.outcome() == Speech.Outcome.FAILED) {
      if (Llm.isRetriable(speech.error())) {
        // The provider is failing: the LLM's outage log says so once, not once per turn.
        log.debug("session {}: {} failed: {}", id, speech.kind(), String.valueOf(speech.error()));
      } else {
        log.warn("session {}: {} failed: {}", id, speech.kind(), String.valueOf(speech.error()));
      }
    }
    speech.announceDone();
  }

  /** The speech ended as it should: everything it had to say was delivered. */
  void complete(Speech speech) {
    end(speech, Speech.Outcome.COMPLETED, null);
  }

  /** A memory tool ran for {@code speech}: tells the listeners. */
  void toolCalled(Speech speech, String tool, Duration latency, boolean ok) {
    for (SessionListener l : listeners) {
      safely(() -> l.onToolCall(this, speech, tool, latency, ok));
    }
  }

  /** A memory tool changed the user's memories for {@code speech}: tells the listeners. */
  void learned(Speech speech, Learned change) {
    for (SessionListener l : listeners) {
      safely(() -> l.onLearned(this, speech, change));
    }
  }

  /** Streams one LLM call into {@code speech}; {@code onComplete} runs only if the speech is still live. */
  void stream(Speech speech, String purpose, ChatRequest request, Consumer<ChatResponse> onComplete) {
    long start = System.nanoTime();
    Llm.Stream s = context.llm().stream(request, new Llm.Listener() {
      @Override
      public void onToken(String text) {
        if (!deliver(speech, text)) {
          Llm.Stream mine = speech.stream;
          if (mine != null) {
            mine.cancel();
          }
        }
      }

      @Override
      public void onComplete(ChatResponse response) {
        context.metrics().llmCall(purpose, Duration.ofNanos(System.nanoTime() - start), true);
        if (!speech.isDone()) {
          onComplete.accept(response);
        }
      }

      @Override
      public void onError(Throwable error) {
        context.metrics().llmCall(purpose, Duration.ofNanos(System.nanoTime() - start), false);
        if (speech.kind() == Speech.Kind.REPLY && speech.text().isEmpty()) {
          // A voice user must not be left in silence: say so, and still end FAILED with the error.
          deliver(speech, Prompts.apology(language, speech.userText));
        }
        end(speech, Speech.Outcome.FAILED, error);
      }
    });
    speech.stream = s;
    if (speech.isDone()) {
      s.cancel(); // ended while the call was starting
    }
  }

  /** Runs blocking work (tool calls) on the runtime's threads, tied to this session's lifetime. */
  void runWork(Speech speech, Runnable task) {
    try {
      Future<?>[] self = new Future<?>[1];
      self[0] = context.work().submit(() -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          end(speech, Speech.Outcome.FAILED, e);
        } finally {
          if (self[0] != null) {
            work.remove(self[0]);
          }
        }
      });
      work.add(self[0]);
      if (state == SessionState.CLOSING || state == SessionState.CLOSED) {
        self[0].cancel(true);
      }
    } catch (RejectedExecutionException e) {
      end(speech, Speech.Outcome.CANCELLED, null);
    }
  }

  private void safely(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.warn("session {}: a listener failed: {}", id, e.toString(), e);
    }
  }

  @Override
  public String toString() {
    return "Session[" + id + ", user=" + userId + ", " + state + "]";
  }
}
