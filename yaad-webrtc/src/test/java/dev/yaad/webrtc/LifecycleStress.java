package dev.yaad.webrtc;

import dev.yaad.testing.ThreadCensus;
import dev.yaad.webrtc.WebRtcCall.State;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * Calls started and ended at random moments, run in a JVM of its own by
 * {@link LifecycleStressTest} so that a native crash fails the test instead of killing the
 * test runner. Prints {@code stress: ok ...} as its last line when every call closed, no call
 * is left open, every closed peer connection was freed (webrtc-java 0.14.0 leaves that to us:
 * {@link NativeRefs}), no close was abandoned, and the threads (Java and native) are back to
 * the baseline exactly: a transport that carried calls leaves no thread behind.
 *
 * <p>Each round opens one to three calls from a client transport to the server transport and
 * ends them in one of these ways, at a random moment (during setup, right after connecting,
 * or in the middle of a sentence being sent both ways): the server closes, the client closes,
 * the client's whole transport closes (a peer that vanishes), or the server transport closes
 * under its calls (a server stopped during a call; the next round starts a new one).
 */
public final class LifecycleStress {
  private enum Ending { SERVER_CLOSES, CLIENT_CLOSES, CLIENT_VANISHES, SERVER_STOPS }

  public static void main(String[] args) throws Exception {
    int rounds = Integer.parseInt(args[0]);
    long seed = args.length > 1 ? Long.parseLong(args[1]) : System.nanoTime();
    Random random = new Random(seed);
    System.out.println("stress: " + rounds + " rounds, seed " + seed);

    // Warm up once so the baseline includes what the JVM starts lazily (class loading, JIT).
    try (WebRtcTransport warm = WebRtcTransport.start(WebRtcConfig.defaults())) {
      warm.openCalls();
    }
    Map<String, Integer> baseline = threads();
    System.out.println("stress: baseline threads " + baseline);

    WebRtcConfig serverConfig = WebRtcConfig.builder().disconnectedTimeout(Duration.ofMillis(1500))
        .connectTimeout(Duration.ofSeconds(10)).build();
    WebRtcTransport server = WebRtcTransport.start(serverConfig);
    WebRtcTransport client = WebRtcTransport.start(WebRtcConfig.defaults());
    List<WebRtcCall> all = new ArrayList<>();
    int[] endings = new int[Ending.values().length];
    int closedDuringSetup = 0;
    int started = 0;
    int transportsClosed = 0;
    long[] peers = new long[3]; // freed, still referenced, abandoned closes: of the transports closed so far
    short[] sentence = Signals.tone(300, 16_000, 1500, 6000);

    for (int round = 0; round < rounds; round++) {
      Ending ending = Ending.values()[random.nextInt(Ending.values().length)];
      endings[ending.ordinal()]++;
      int calls = 1 + random.nextInt(3);
      started += calls;
      long delayMillis = random.nextInt(400);
      boolean duringSetup = random.nextInt(4) == 0;
      List<WebRtcCall[]> pairs = new ArrayList<>();
      WebRtcTransport c = client;
      WebRtcTransport s = server;
      List<CompletableFuture<?>> setups = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        WebRtcCall[] pair = new WebRtcCall[2];
        pairs.add(pair);
        setups.add(CompletableFuture.runAsync(() -> {
          try {
            pair[1] = c.dial(offer -> {
              pair[0] = s.accept(offer).onAudio(f -> { });
              pair[0].send(sentence, 16_000);
              return pair[0].localDescription();
            }).onAudio(f -> { });
            pair[1].send(sentence, 16_000);
          } catch (WebRtcException e) {
            // Closed under its feet (the ending came during setup): that must be a clean error.
          }
        }, Thread::startVirtualThread));
      }
      if (!duringSetup) {
        CompletableFuture.allOf(setups.toArray(CompletableFuture[]::new)).join();
      }
      LockSupport.parkNanos(delayMillis * 1_000_000L); // the random moment
      switch (ending) {
        case SERVER_CLOSES -> server.calls().forEach(WebRtcCall::close);
        case CLIENT_CLOSES -> client.calls().forEach(WebRtcCall::close);
        case CLIENT_VANISHES -> {
          client.close();
          count(client, peers);
          transportsClosed++;
          client = WebRtcTransport.start(WebRtcConfig.defaults());
        }
        case SERVER_STOPS -> {
          server.close();
          count(server, peers);
          transportsClosed++;
          server = WebRtcTransport.start(serverConfig);
        }
      }
      CompletableFuture.allOf(setups.toArray(CompletableFuture[]::new)).join();
      if (duringSetup) {
        closedDuringSetup += (int) pairs.stream().filter(p -> p[0] == null || p[1] == null).count();
      }
      // Whatever is left open (the other side of a vanished peer...) is closed by the peer-gone
      // timeout or by us now; a round ends with nothing open so rounds do not pile up.
      for (WebRtcCall[] pair : pairs) {
        for (WebRtcCall call : pair) {
          if (call != null) {
            all.add(call);
          }
        }
      }
      WebRtcTransport sNow = server;
      WebRtcTransport cNow = client;
      server.calls().forEach(WebRtcCall::close);
      client.calls().forEach(WebRtcCall::close);
      Signals.await(() -> sNow.openCalls() == 0 && cNow.openCalls() == 0, Duration.ofSeconds(20), "round " + round + " closed");
    }
    client.close();
    server.close();
    count(client, peers);
    count(server, peers);
    transportsClosed += 2;
    if (peers[1] != 0 || peers[2] != 0 || peers[0] < started) {
      throw new AssertionError("peer connections: " + peers[0] + " freed (of at least " + started + " calls), " + peers[1]
          + " still referenced after their release, " + peers[2] + " closes abandoned");
    }
    for (WebRtcCall call : all) {
      if (call.state() != State.CLOSED || !call.closed().isDone()) {
        throw new AssertionError("a call did not close: " + call);
      }
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    Map<String, Integer> now = threads();
    while (!now.equals(baseline) && System.nanoTime() < deadline) {
      LockSupport.parkNanos(50_000_000L);
      now = threads();
    }
    if (!now.equals(baseline)) {
      throw new AssertionError("threads did not return to the baseline " + baseline + ": now " + now);
    }
    System.out.printf("stress: ok %d rounds, %d calls (%d call objects, both ends), endings %s, %d calls ended during setup,"
            + " %d peer connections freed, threads back to %d after %d transports closed%n",
        rounds, started, all.size(), java.util.Arrays.toString(endings), closedDuringSetup, peers[0],
        baseline.values().stream().mapToInt(Integer::intValue).sum(), transportsClosed);
  }

  private static void count(WebRtcTransport closed, long[] peers) {
    peers[0] += closed.peersFreed();
    peers[1] += closed.peersStillReferenced();
    peers[2] += closed.abandonedCloses();
  }

  /** Live threads (ThreadCensus; its process reapers include those of the {@code chrt} processes RealtimeThreads starts). */
  static Map<String, Integer> threads() throws IOException {
    return ThreadCensus.threads(name -> false);
  }
}
