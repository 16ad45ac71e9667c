package dev.yaad.agent.llm;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.RetriableException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialToolCall;
import dev.langchain4j.model.chat.response.PartialToolCallContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.yaad.memory.outage.OutageLog;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Yaad's access to a chat model: streamed calls that can be cancelled at any moment, with
 * a first-token timeout, a total timeout and bounded retries; and blocking calls for
 * background work. Nothing provider-specific leaks past this class: sessions and the
 * learner see LangChain4j's {@link ChatRequest} and {@link ChatResponse} only.
 *
 * <p>A streamed call is retried (with backoff) only while no token has reached the
 * listener, so a listener never sees text twice; an attempt that timed out waiting for its
 * first token still counts if it answers before the retry does. After {@link Stream#cancel()} the listener
 * receives nothing more. Once a call is over (answered, failed or cancelled) or one attempt has
 * won, the other attempts' HTTP requests are aborted at once, hung or not: none keeps its
 * connection and reader thread until the read timeout.
 *
 * <p>Thread-safe; one instance serves every session. {@link #close()} stops its timers.
 */
public final class Llm implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Llm.class);
  private static final long BASE_BACKOFF_MS = 200;
  /** A retry gets at least this long for its first token, or is not made. */
  private static final long MIN_ATTEMPT_MS = 250;

  /** Receives one streamed call's output; exactly one of the terminal methods is called, unless cancelled. */
  public interface Listener {
    void onToken(String text);

    /** The model finished; the response holds the whole text and any tool calls. */
    void onComplete(ChatResponse response);

    void onError(Throwable error);
  }

  /** A streamed call in flight. */
  public interface Stream {
    /** Stops delivery and aborts the HTTP request at once; idempotent. */
    void cancel();

    boolean isCancelled();
  }

  private final StreamingChatModel streaming;
  private final ChatModel blocking;
  private final LlmConfig config;
  private final ScheduledExecutorService timers;
  /** The HTTP client's threads (its own tasks; the readers of streamed responses); none for {@link #of}. */
  private final List<ExecutorService> httpThreads;
  /** An outage of the provider is logged once per change of state, not per failed call. */
  private final OutageLog outage;

  private Llm(StreamingChatModel streaming, ChatModel blocking, LlmConfig config, List<ExecutorService> httpThreads) {
    this.streaming = Objects.requireNonNull(streaming, "streaming");
    this.blocking = Objects.requireNonNull(blocking, "blocking");
    this.config = Objects.requireNonNull(config, "config");
    this.httpThreads = httpThreads;
    this.outage = new OutageLog(log, "llm", URI.create(config.baseUrl()));
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
      Thread thread = new Thread(r, "yaad-llm-timers");
      thread.setDaemon(true);
      return thread;
    });
    t.setRemoveOnCancelPolicy(true); // most timers are cancelled: keep the queue small
    this.timers = t;
  }

  /** The OpenAI-compatible provider behind {@code config}, over the JDK HTTP client ({@link StreamingHttpClient}). */
  public static Llm openAiCompatible(LlmConfig config) {
    ExecutorService httpThreads = Executors.newVirtualThreadPerTaskExecutor();
    // Platform threads, as many as streams are open (the common pool's readers were platform threads
    // too, so a reader's share of a busy CPU is as before; only the cap of 257 is gone).
    ExecutorService readers = Executors.newCachedThreadPool(Thread.ofPlatform().name("yaad-llm-stream-", 0).daemon(true).factory());
    HttpClient.Version version = config.baseUrl().startsWith("https") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1;
    String key = config.apiKey() == null ? "none" : config.apiKey(); // local servers ignore it; the client requires one
    StreamingChatModel streaming = OpenAiStreamingChatModel.builder()
        .httpClientBuilder(http(httpThreads, readers, version, config.callTimeout()))
        .baseUrl(config.baseUrl()).apiKey(key).modelName(config.model())
        .timeout(config.callTimeout())
        .build();
    ChatModel blocking = OpenAiChatModel.builder()
        .httpClientBuilder(http(httpThreads, readers, version, config.callTimeout()))
        .baseUrl(config.baseUrl()).apiKey(key).modelName(config.model())
        .timeout(config.callTimeout())
        .maxRetries(config.maxRetries())
        .build();
    log.info("llm: {} at {} (first token within {} ms per attempt and {} ms in all, {} retries)",
        config.model(), config.baseUrl(), config.firstTokenTimeout().toMillis(), config.firstTokenBudget().toMillis(),
        config.maxRetries());
    return new Llm(streaming, blocking, config, List.of(httpThreads, readers));
  }

  /** Any LangChain4j models (a seam for tests and other providers). */
  public static Llm of(StreamingChatModel streaming, ChatModel blocking, LlmConfig config) {
    return new Llm(streaming, blocking, config, List.of());
  }

  private static StreamingHttpClient.Builder http(ExecutorService threads, ExecutorService readers,
      HttpClient.Version version, Duration timeout) {
    return StreamingHttpClient.builder(threads, readers, version).connectTimeout(Duration.ofSeconds(5)).readTimeout(timeout);
  }

  public LlmConfig config() {
    return config;
  }

  /** Streamed responses being sent or read now, on reader threads (for tests). */
  int streamsInFlight() {
    return httpThreads.stream().filter(ThreadPoolExecutor.class::isInstance)
        .mapToInt(e -> ((ThreadPoolExecutor) e).getActiveCount()).sum();
  }

  /**
   * Starts a streamed call; returns at once.
   *
   * @param listener called on the HTTP client's threads; must not block for long
   */
  public Stream stream(ChatRequest request, Listener listener) {
    StreamedCall call = new StreamedCall(request, listener);
    call.attempt();
    return call;
  }

  /**
   * A blocking call with bounded retries, for background work.
   *
   * @throws RuntimeException the provider's error after the last retry (LangChain4j's
   *     {@link RetriableException} subclasses for timeouts, 429 and 5xx)
   */
  public ChatResponse chat(ChatRequest request) {
    try {
      ChatResponse response = blocking.chat(request);
      outage.succeeded();
      return response;
    } catch (RuntimeException e) {
      if (isRetriable(e)) {
        outage.failed(e);
      }
      throw e;
    }
  }

  /** Whether a failure is worth retrying (timeouts, rate limits, server errors, I/O). */
  public static boolean isRetriable(Throwable error) {
    Throwable e = error;
    while (e != null) {
      if (e instanceof RetriableException || e instanceof java.io.IOException) {
        return true;
      }
      if (e instanceof HttpException http) {
        return http.statusCode() == 429 || http.statusCode() >= 500;
      }
      e = e.getCause();
    }
    return false;
  }

  @Override
  public void close() {
    timers.shutdownNow();
    httpThreads.forEach(ExecutorService::shutdownNow);
  }

  /**
   * One streamed call across its attempts. An attempt that has had no first token within its
   * wait is not abandoned: the next attempt starts beside it, and whichever delivers a first
   * token first is the one whose output counts (the other's request is aborted then).
   * A provider that is only queueing (busy, not hung) answers the first attempt a little late;
   * throwing that answer away would put the retry at the back of the same queue, and the call
   * would fail for nothing.
   */
  private final class StreamedCall implements Stream {
    private final ChatRequest request;
    private final Listener listener;
    private final AtomicBoolean finished = new AtomicBoolean();
    /** The newest attempt (its errors decide on a retry; an older one's are ignored). */
    private final AtomicInteger current = new AtomicInteger(1);
    /** The attempt that delivered the first token, whose output counts; 0 before. */
    private final AtomicInteger winner = new AtomicInteger();
    /** Each attempt's HTTP request, by attempt number. */
    private final Map<Integer, StreamingHttpClient.Exchange> exchanges = new ConcurrentHashMap<>();
    private volatile boolean cancelled;
    private volatile StreamingHandle handle;
    private volatile ScheduledFuture<?> firstTokenTimer;
    private final ScheduledFuture<?> callTimer;
    private final long startNanos = System.nanoTime();

    StreamedCall(ChatRequest request, Listener listener) {
      this.request = request;
      this.listener = listener;
      this.callTimer = schedule(() -> fail(new TimeoutException(
          "the LLM call took longer than " + config.callTimeout().toMillis() + " ms")), config.callTimeout().toMillis());
    }

    void attempt() {
      attempt(1);
    }

    private void attempt(int n) {
      if (finished.get() || winner.get() != 0) {
        return;
      }
      long wait = Math.min(config.firstTokenTimeout().toMillis(), budgetLeftMillis());
      if (wait <= 0) {
        fail(new TimeoutException("no first token within " + config.firstTokenBudget().toMillis() + " ms"));
        return;
      }
      firstTokenTimer = schedule(() -> {
        if (winner.get() == 0) { // else a first token came as the timer fired
          attemptFailed(n, new TimeoutException("no first token within " + wait + " ms (attempt " + n + ")"));
        }
      }, wait);
      try {
        StreamingHttpClient.startedBy(e -> exchanges.put(n, e), () -> streaming.chat(request, new Handler(n)));
      } catch (RuntimeException e) {
        attemptFailed(n, e);
      }
      if (finished.get()) {
        abortAttempts(winner.get()); // the call ended as this attempt started
      }
    }

    /**
     * Aborts the HTTP requests of every attempt but {@code except} (0: of all). The winner's own
     * stream is closed through its handle instead: its reader may be in the listener, which an
     * interrupt must not reach.
     */
    void abortAttempts(int except) {
      exchanges.forEach((n, exchange) -> {
        if (n != except) {
          exchange.abort();
        }
      });
    }

    /**
     * A failure of attempt {@code n} before its first token (an error, or no first token in
     * time): retried within the budget, else final. A timed-out attempt keeps running beside
     * the retry; an error of an attempt that is not the newest is ignored.
     */
    void attemptFailed(int n, Throwable error) {
      if (finished.get()) {
        return;
      }
      if (winner.get() == n) {
        fail(error); // after its first token: the listener has seen text, no retry
        return;
      }
      if (winner.get() != 0 || !current.compareAndSet(n, n + 1)) {
        return; // an attempt that lost, or one a retry has superseded
      }
      cancelTimer(firstTokenTimer);
      long backoff = BASE_BACKOFF_MS << (n - 1);
      // A retry must still have time for its first token: else the user waits for nothing.
      if (!cancelled && n <= config.maxRetries() && isRetriable(error)
          && budgetLeftMillis() - backoff >= MIN_ATTEMPT_MS) {
        log.debug("llm: attempt {} failed ({}); retrying in {} ms", n, error.toString(), backoff);
        schedule(() -> attempt(n + 1), backoff);
        return;
      }
      if (!cancelled && isRetriable(error)) {
        outage.failed(error); // the call failed, not just an attempt that a retry may yet make good
      }
      fail(error);
    }

    /** What is left of the first-token budget. */
    long budgetLeftMillis() {
      return config.firstTokenBudget().toMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    void fail(Throwable error) {
      if (finished.compareAndSet(false, true)) {
        cancelTimer(firstTokenTimer);
        cancelTimer(callTimer);
        StreamingHandle h = handle;
        if (h != null) {
          h.cancel();
        }
        abortAttempts(winner.get());
        if (!cancelled) {
          listener.onError(error);
        }
      }
    }

    @Override
    public void cancel() {
      cancelled = true;
      if (finished.compareAndSet(false, true)) {
        cancelTimer(firstTokenTimer);
        cancelTimer(callTimer);
      }
      StreamingHandle h = handle;
      if (h != null) {
        h.cancel();
      }
      abortAttempts(winner.get());
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    private final class Handler implements StreamingChatResponseHandler {
      private final int n;

      Handler(int n) {
        this.n = n;
      }

      /** Whether this attempt's output counts (the first to deliver wins); else cancels its HTTP stream. */
      private boolean live(StreamingHandle h) {
        if (!finished.get() && (winner.get() == n || winner.compareAndSet(0, n))) {
          if (handle == null) {
            handle = h;
            cancelTimer(firstTokenTimer);
            outage.succeeded();
            abortAttempts(n); // the others can only lose now
          }
          return true;
        }
        h.cancel();
        return false;
      }

      @Override
      public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
        if (live(context.streamingHandle()) && partial.text() != null && !partial.text().isEmpty()) {
          listener.onToken(partial.text());
        }
      }

      @Override
      public void onPartialToolCall(PartialToolCall partial, PartialToolCallContext context) {
        live(context.streamingHandle()); // progress: the first-token timer no longer applies
      }

      @Override
      public void onCompleteResponse(ChatResponse response) {
        if ((winner.get() == n || winner.compareAndSet(0, n)) && finished.compareAndSet(false, true)) {
          cancelTimer(firstTokenTimer);
          cancelTimer(callTimer);
          outage.succeeded();
          abortAttempts(n);
          listener.onComplete(response);
        }
      }

      @Override
      public void onError(Throwable error) {
        attemptFailed(n, error);
      }
    }
  }

  private ScheduledFuture<?> schedule(Runnable task, long delayMs) {
    try {
      return timers.schedule(task, delayMs, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return null; // closed: the call will not be timed
    }
  }

  private static void cancelTimer(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
