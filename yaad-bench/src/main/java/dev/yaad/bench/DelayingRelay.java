package dev.yaad.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP relay on loopback that makes a local database look like one across a network: every
 * chunk the client sends reaches the server {@code delay} later, in the order it was sent, so
 * each request/response round trip costs {@code delay} more. Replies flow back undelayed.
 *
 * <p>Chunks are delayed from the moment each one arrives, not one after another, so a request
 * that happens to be split into several writes still pays the delay once, as on a real link.
 * Every connection uses three virtual threads (read, delayed write, reply pipe).
 * {@link #close} stops accepting and cuts every open connection.
 */
final class DelayingRelay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DelayingRelay.class);
  private static final int CHUNK_BYTES = 64 * 1024;
  private static final byte[] END = new byte[0];

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final long delayNanos;
  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final LongAdder chunks = new LongAdder();
  private volatile boolean closed;

  private DelayingRelay(ServerSocket listener, InetSocketAddress target, Duration delay) {
    this.listener = listener;
    this.target = target;
    this.delayNanos = delay.toNanos();
  }

  /**
   * Listens on 127.0.0.1 at a free port and relays every connection to {@code target}.
   *
   * @throws IllegalArgumentException if the delay is negative
   */
  static DelayingRelay start(InetSocketAddress target, Duration delay) throws IOException {
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay cannot be negative (was " + delay + ")");
    }
    ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    DelayingRelay relay = new DelayingRelay(listener, target, delay);
    relay.threads.submit(relay::acceptLoop);
    log.info("relay: 127.0.0.1:{} -> {}, client->server delay {} ms",
        listener.getLocalPort(), target, delay.toNanos() / 1e6);
    return relay;
  }

  /** The local port clients connect to. */
  int port() {
    return listener.getLocalPort();
  }

  /**
   * Client-to-server chunks relayed so far. A request/response protocol sends one chunk per
   * round trip unless a request is larger than a socket buffer, so the difference across a
   * call counts the call's round trips.
   */
  long chunks() {
    return chunks.sum();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        if (!closed) {
          log.warn("relay: accept failed, relay stops: {}", e.toString());
        }
        return;
      }
      threads.submit(() -> relay(client));
    }
  }

  private void relay(Socket client) {
    Socket server = new Socket();
    open.add(client);
    open.add(server);
    // Both sockets are closed once both directions have ended (or at the first error).
    AtomicInteger halvesOpen = new AtomicInteger(2);
    Runnable halfDone = () -> {
      if (halvesOpen.decrementAndGet() == 0) {
        quietlyClose(client, server);
      }
    };
    try {
      client.setTcpNoDelay(true);
      server.setTcpNoDelay(true);
      server.connect(target, 5_000);
      BlockingQueue<Chunk> inFlight = new LinkedBlockingQueue<>();
      threads.submit(() -> readClient(client, inFlight));
      threads.submit(() -> writeServer(client, server, inFlight, halfDone));
      pipe(server.getInputStream(), client.getOutputStream());
      client.shutdownOutput();
      halfDone.run();
    } catch (IOException e) {
      quietlyClose(client, server);
    }
  }

  /** Stamps every chunk with the time it may leave; the queue keeps the order. */
  private void readClient(Socket client, BlockingQueue<Chunk> inFlight) {
    byte[] buffer = new byte[CHUNK_BYTES];
    try {
      InputStream in = client.getInputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        inFlight.add(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buffer, n)));
        chunks.increment();
      }
    } catch (IOException e) {
      // The connection was cut (or the relay closed); END below tells the writer.
    } finally {
      inFlight.add(new Chunk(System.nanoTime() + delayNanos, END));
    }
  }

  private void writeServer(Socket client, Socket server, BlockingQueue<Chunk> inFlight, Runnable halfDone) {
    try {
      OutputStream out = server.getOutputStream();
      while (true) {
        Chunk chunk = inFlight.take();
        for (long wait; (wait = chunk.due - System.nanoTime()) > 0; ) {
          LockSupport.parkNanos(wait);
        }
        if (chunk.bytes == END) {
          server.shutdownOutput();
          halfDone.run();
          return;
        }
        out.write(chunk.bytes);
        out.flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      quietlyClose(client, server);
    } catch (IOException e) {
      quietlyClose(client, server);
    }
  }

  private static void pipe(InputStream in, OutputStream out) throws IOException {
    byte[] buffer = new byte[CHUNK_BYTES];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      out.write(buffer, 0, n);
      out.flush();
    }
  }

  private void quietlyClose(Socket... sockets) {
    for (Socket socket : sockets) {
      open.remove(socket);
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  /** Stops accepting, cuts every open connection and waits (briefly) for the relay's threads. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    quietlyClose(open.toArray(Socket[]::new));
    threads.shutdownNow();
    try {
      if (!threads.awaitTermination(5, TimeUnit.SECONDS)) {
        log.warn("relay: some relay threads did not stop within 5 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private record Chunk(long due, byte[] bytes) {}
}
