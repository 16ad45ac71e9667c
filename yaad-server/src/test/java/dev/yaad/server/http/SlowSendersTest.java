package dev.yaad.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.yaad.memory.testing.TestStores;
import dev.yaad.server.YaadServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Clients that announce a body and then send it slowly, or not at all, over a real server on
 * a random port: they must neither hold the request threads (so {@code /health} answers while
 * they hang) nor end in a 500 with a stack trace.
 */
class SlowSendersTest {
  private static final int STALLERS = 200;
  private static final int TRICKLERS = 60;

  @TempDir
  Path dir;
  private YaadServer server;
  private final List<Socket> sockets = new ArrayList<>();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

  @BeforeEach
  void captureLogs() {
    logs.start();
    root.addAppender(logs);
  }

  @AfterEach
  void stop() throws IOException {
    root.detachAppender(logs);
    for (Socket socket : sockets) {
      socket.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void stalledAndTricklingBodies_get408_whileHealthAnswers() throws Exception {
    // 260 connections from this one address: above the default per-address limit, which another test covers.
    HttpLimits limits = HttpLimits.defaults().withBodyTimeouts(Duration.ofSeconds(4), 64).withMaxConnectionsPerIp(0);
    server = new YaadServer(YaadServer.Config.of(TestStores.h2(dir)).withAddress("127.0.0.1", 0).withLimits(limits)).start();
    int port = server.port();
    String head = "POST /api/v1/users/slow/memories HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
        + "Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{\"category\":";
    for (int i = 0; i < STALLERS + TRICKLERS; i++) {
      Socket socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(120_000);
      socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      sockets.add(socket);
    }
    // The tricklers send one more byte of the body every 300 ms; the stallers send nothing more.
    ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
    trickle.scheduleWithFixedDelay(() -> {
      for (Socket socket : sockets.subList(STALLERS, sockets.size())) {
        try {
          socket.getOutputStream().write(' ');
          socket.getOutputStream().flush();
        } catch (IOException e) {
          // answered and closed: nothing more to send
        }
      }
    }, 300, 300, TimeUnit.MILLISECONDS);

    AtomicLong firstStallerAnswered = new AtomicLong(Long.MAX_VALUE);
    ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
    List<Future<String>> answers = new ArrayList<>();
    for (int i = 0; i < sockets.size(); i++) {
      Socket socket = sockets.get(i);
      boolean staller = i < STALLERS;
      answers.add(readers.submit(() -> {
        String answer = readAnswer(socket.getInputStream());
        if (staller) {
          firstStallerAnswered.accumulateAndGet(System.nanoTime(), Math::min);
        }
        return answer;
      }));
    }
    try {
      Http.Response health = new Http(port).get("/health");
      long healthAnswered = System.nanoTime();
      assertThat(health.status()).isEqualTo(200);
      // While 200 requests wait for bodies that never come (each holding a handler), the server still answers.
      assertThat(healthAnswered).as("/health answered before any stalled request timed out").isLessThan(firstStallerAnswered.get());

      for (Future<String> answer : answers) {
        assertThat(answer.get(120, TimeUnit.SECONDS)).startsWith("HTTP/1.1 408").contains("\"error\":\"request_timeout\"");
      }
    } finally {
      trickle.shutdownNow();
      readers.shutdownNow();
    }
    assertThat(logs.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .filteredOn(e -> e.getThrowableProxy() != null).isEmpty();
  }

  /** The status line, headers and body of one answer, up to the end of the connection or 64 KiB. */
  private static String readAnswer(InputStream in) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    int length = 0;
    int n;
    while (length < buffer.length && (n = in.read(buffer, length, buffer.length - length)) > 0) {
      length += n;
      String text = new String(buffer, 0, length, StandardCharsets.UTF_8);
      int split = text.indexOf("\r\n\r\n");
      if (split >= 0 && text.substring(split + 4).endsWith("}")) {
        return text;
      }
    }
    return new String(buffer, 0, length, StandardCharsets.UTF_8);
  }
}
