package dev.yaad.agent.llm;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * The HTTP client LangChain4j's OpenAI models call the provider with: the JDK's client, as
 * LangChain4j's own {@code JdkHttpClient}, except that each streamed response is read on a
 * thread of its own, from an executor the caller gives (unbounded: one thread per open stream).
 *
 * <p>Why: {@code JdkHttpClient} reads a stream in a dependent action of {@code sendAsync},
 * which the JDK runs on the common ForkJoinPool; the reader blocks there between chunks, and
 * the pool replaces a blocked thread at most 256 times. So at most 257 streams were read at
 * once; the next waited, its tokens buffered, until another stream had ended (a whole reply
 * later).
 *
 * <p>Each stream can be {@linkplain Exchange#abort aborted} at any moment, also before its first
 * chunk, which LangChain4j's own handle cannot do (it closes the stream only once a chunk has
 * come): {@link #startedBy} hands the caller the {@link Exchange} of each stream it starts. So an
 * LLM call that has failed or been cancelled does not keep a hung request, its connection and
 * its reader thread until the read timeout.
 *
 * <p>Otherwise as {@code JdkHttpClient}: the request's timeout is the read timeout (until the
 * response's headers), a status outside 2xx is an {@link HttpException} with the body, a
 * timeout is LangChain4j's {@link TimeoutException}, and the listener's own exceptions do not
 * end the stream.
 */
final class StreamingHttpClient implements dev.langchain4j.http.client.HttpClient {
  /** Where the streams started on this thread are handed (see {@link #startedBy}); null: nowhere. */
  private static final ThreadLocal<Consumer<Exchange>> STARTED = new ThreadLocal<>();

  private final HttpClient http;
  private final ExecutorService readers;
  private final Duration readTimeout;

  private StreamingHttpClient(HttpClient http, ExecutorService readers, Duration readTimeout) {
    this.http = http;
    this.readers = readers;
    this.readTimeout = readTimeout;
  }

  /**
   * A builder whose client runs the JDK client's tasks on {@code threads} and reads each streamed
   * response on a thread of {@code readers}, speaking {@code version}.
   */
  static Builder builder(ExecutorService threads, ExecutorService readers, HttpClient.Version version) {
    return new Builder(threads, readers, version);
  }

  @Override
  public SuccessfulHttpResponse execute(dev.langchain4j.http.client.HttpRequest request) {
    HttpResponse<byte[]> response;
    try {
      response = http.send(jdk(request), HttpResponse.BodyHandlers.ofByteArray());
    } catch (HttpTimeoutException e) {
      throw new TimeoutException(e);
    } catch (IOException e) {
      throw new RuntimeException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
    if (!successful(response.statusCode())) {
      throw failure(response.statusCode(), response.body());
    }
    return answer(response, response.body());
  }

  /**
   * Runs {@code start} and hands {@code sink} the {@link Exchange} of each stream it starts on
   * this thread (LangChain4j's streaming models start theirs on the caller's thread).
   */
  static void startedBy(Consumer<Exchange> sink, Runnable start) {
    Consumer<Exchange> outer = STARTED.get();
    STARTED.set(sink);
    try {
      start.run();
    } finally {
      STARTED.set(outer);
    }
  }

  @Override
  public void execute(dev.langchain4j.http.client.HttpRequest request, ServerSentEventParser parser,
      ServerSentEventListener listener) {
    HttpRequest jdkRequest = jdk(request);
    Exchange exchange = new Exchange();
    Consumer<Exchange> sink = STARTED.get();
    if (sink != null) {
      sink.accept(exchange);
    }
    readers.execute(() -> {
      if (exchange.reading(Thread.currentThread())) {
        try {
          stream(jdkRequest, parser, listener);
        } finally {
          exchange.done();
        }
      }
    });
  }

  /**
   * One streamed request, from its send to the end of its body. {@link #abort} interrupts its
   * reader: the JDK client then cancels the request (before the response's headers) or its body
   * stream fails (after), the connection is closed, and the listener gets the error.
   */
  static final class Exchange {
    private Thread reader;
    private boolean aborted;
    private boolean over;

    /** Stops the stream now, or before it starts; idempotent, and a no-op once it has ended. */
    synchronized void abort() {
      if (!aborted && !over) {
        aborted = true;
        if (reader != null) {
          reader.interrupt();
        }
      }
    }

    /** @return false if aborted before it started: then nothing is sent */
    private synchronized boolean reading(Thread thread) {
      if (aborted) {
        return false;
      }
      reader = thread;
      return true;
    }

    /** The stream ended: a later abort must not interrupt the pooled thread's next stream. */
    private void done() {
      synchronized (this) {
        over = true;
        reader = null;
      }
      Thread.interrupted(); // an abort that came as the stream ended
    }
  }

  private void stream(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
    try {
      HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream body = response.body()) {
        if (!successful(response.statusCode())) {
          HttpException e = failure(response.statusCode(), body.readAllBytes());
          quietly(() -> listener.onError(e));
          return;
        }
        SuccessfulHttpResponse opened = answer(response, null); // the body is the stream, read by the parser
        quietly(() -> listener.onOpen(opened));
        parser.parse(body, listener);
        quietly(listener::onClose);
      }
    } catch (HttpTimeoutException e) {
      quietly(() -> listener.onError(new TimeoutException(e)));
    } catch (IOException | InterruptedException | RuntimeException e) {
      quietly(() -> listener.onError(e));
    }
  }

  private HttpRequest jdk(dev.langchain4j.http.client.HttpRequest request) {
    HttpRequest.Builder b = HttpRequest.newBuilder().uri(URI.create(request.url()));
    request.headers().forEach((name, values) -> values.forEach(value -> b.header(name, value)));
    if (!request.formDataFields().isEmpty() || !request.formDataFiles().isEmpty()) {
      throw new UnsupportedOperationException("multipart requests are not used for chat completions");
    }
    b.method(request.method().name(), request.body() == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(request.body()));
    if (readTimeout != null) {
      b.timeout(readTimeout);
    }
    return b.build();
  }

  private static boolean successful(int status) {
    return status >= 200 && status < 300;
  }

  private static HttpException failure(int status, byte[] body) {
    return new HttpException(status, new String(body, StandardCharsets.UTF_8));
  }

  private static SuccessfulHttpResponse answer(HttpResponse<?> response, byte[] body) {
    return SuccessfulHttpResponse.builder().statusCode(response.statusCode()).headers(response.headers().map()).body(body).build();
  }

  /** A listener's exception must not end the stream (as LangChain4j's own clients do). */
  private static void quietly(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException ignored) {
      // the listener's own failure; LangChain4j's handlers report errors through onError themselves
    }
  }

  static final class Builder implements HttpClientBuilder {
    private final ExecutorService threads;
    private final ExecutorService readers;
    private final HttpClient.Version version;
    private Duration connectTimeout;
    private Duration readTimeout;

    private Builder(ExecutorService threads, ExecutorService readers, HttpClient.Version version) {
      this.threads = threads;
      this.readers = readers;
      this.version = version;
    }

    @Override
    public Duration connectTimeout() {
      return connectTimeout;
    }

    @Override
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    @Override
    public Duration readTimeout() {
      return readTimeout;
    }

    @Override
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = timeout;
      return this;
    }

    @Override
    public StreamingHttpClient build() {
      HttpClient.Builder b = HttpClient.newBuilder().executor(threads).version(version);
      if (connectTimeout != null) {
        b.connectTimeout(connectTimeout);
      }
      return new StreamingHttpClient(b.build(), readers, readTimeout);
    }
  }
}
