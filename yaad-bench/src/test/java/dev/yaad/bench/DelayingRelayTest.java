package dev.yaad.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The relay over real loopback sockets, against an echo server. Timings are not asserted. */
@Timeout(30)
class DelayingRelayTest {
  private ServerSocket echo;
  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

  @BeforeEach
  void startEchoServer() throws IOException {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    threads.submit(() -> {
      while (!echo.isClosed()) {
        Socket s = echo.accept();
        threads.submit(() -> {
          try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            in.transferTo(out);
          }
          return null;
        });
      }
      return null;
    });
  }

  @AfterEach
  void stop() throws IOException {
    echo.close();
    threads.shutdownNow();
  }

  private InetSocketAddress echoAddress() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort());
  }

  /** End of stream or a reset: either way the other side is gone. */
  private static boolean hungUp(Socket socket) {
    try {
      return socket.getInputStream().read() == -1;
    } catch (IOException e) {
      return true;
    }
  }

  @Test
  void relay_deliversEveryByteInOrder_acrossManyWrites() throws Exception {
    byte[] sent = new byte[3 * 1024 * 1024 + 17];
    new Random(7).nextBytes(sent);
    try (DelayingRelay relay = DelayingRelay.start(echoAddress(), Duration.ofMillis(1));
        Socket client = new Socket(InetAddress.getLoopbackAddress(), relay.port())) {
      Future<byte[]> received = threads.submit(() -> client.getInputStream().readAllBytes());
      OutputStream out = client.getOutputStream();
      Random sizes = new Random(11);
      for (int at = 0; at < sent.length; ) {
        int n = Math.min(sent.length - at, 1 + sizes.nextInt(40_000)); // uneven writes, some tiny
        out.write(sent, at, n);
        at += n;
      }
      client.shutdownOutput();
      assertThat(received.get(20, TimeUnit.SECONDS)).isEqualTo(sent);
      assertThat(relay.chunks()).isPositive();
    }
  }

  @Test
  void relay_keepsRequestResponseOrder_onConcurrentConnections() throws Exception {
    try (DelayingRelay relay = DelayingRelay.start(echoAddress(), Duration.ofMillis(1))) {
      List<Future<List<String>>> conversations = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        int connection = c;
        conversations.add(threads.submit(() -> {
          List<String> answers = new ArrayList<>();
          try (Socket s = new Socket(InetAddress.getLoopbackAddress(), relay.port())) {
            for (int i = 0; i < 20; i++) {
              byte[] message = ("c" + connection + "-m" + i + ";").getBytes();
              s.getOutputStream().write(message);
              answers.add(new String(s.getInputStream().readNBytes(message.length)));
            }
          }
          return answers;
        }));
      }
      for (int c = 0; c < conversations.size(); c++) {
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          expected.add("c" + c + "-m" + i + ";");
        }
        assertThat(conversations.get(c).get(20, TimeUnit.SECONDS)).isEqualTo(expected);
      }
    }
  }

  @Test
  void relay_withoutDelay_isATransparentPipe() throws Exception {
    byte[] sent = "hello through the relay, سلام".getBytes();
    try (DelayingRelay relay = DelayingRelay.start(echoAddress(), Duration.ZERO);
        Socket client = new Socket(InetAddress.getLoopbackAddress(), relay.port())) {
      client.getOutputStream().write(sent);
      client.shutdownOutput();
      ByteArrayOutputStream back = new ByteArrayOutputStream();
      client.getInputStream().transferTo(back);
      assertThat(back.toByteArray()).isEqualTo(sent);
    }
  }

  @Test
  void close_cutsOpenConnections_andStopsAccepting() throws Exception {
    DelayingRelay relay = DelayingRelay.start(echoAddress(), Duration.ofMillis(1));
    int port = relay.port();
    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
      client.getOutputStream().write(1);
      assertThat(client.getInputStream().read()).isEqualTo(1);
      relay.close();
      assertThat(hungUp(client)).isTrue();
    }
    try (Socket late = new Socket()) {
      assertThatThrownBy(() -> late.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000))
          .isInstanceOf(IOException.class);
    }
  }
}
