package dev.yaad.bench;

import dev.yaad.webrtc.WebRtcCall;
import dev.yaad.webrtc.WebRtcConfig;
import dev.yaad.webrtc.WebRtcTransport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The callers of {@code yaad-bench webrtc}, in a JVM of their own so that the benchmark's CPU
 * figures are the answering side's alone. Talks to the benchmark over stdin/stdout, one line
 * each: {@code DIAL n} in opens n more calls, each printing {@code OFFER i <base64 sdp>} and
 * waiting for {@code ANSWER i <base64 sdp>}; {@code READY n} out when n calls are connected,
 * {@code FAILED ...} when a call could not be set up or connect; {@code CLOSE} in hangs up
 * every call ({@code CLOSED} out);
 * {@code HANGUP} in closes everything and exits. Every call talks without pause (a synthetic
 * voice: amplitude-modulated harmonics, so Opus has real work), as a caller on an open mic does.
 */
final class WebRtcFarEnd {
  private WebRtcFarEnd() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    Map<Integer, CompletableFuture<String>> answers = new ConcurrentHashMap<>();
    List<WebRtcCall> calls = new CopyOnWriteArrayList<>();
    AtomicInteger next = new AtomicInteger();
    short[] voice = syntheticVoice(16_000, 1000);
    try (WebRtcTransport transport = WebRtcTransport.start(WebRtcConfig.builder().maxCalls(1000).build())) {
      Thread talker = Thread.ofPlatform().daemon().name("far-end-talker").start(() -> {
        while (true) {
          for (WebRtcCall call : calls) {
            if (call.queuedMillis() < 500) {
              call.send(voice, 16_000);
            }
          }
          try {
            TimeUnit.MILLISECONDS.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        String[] parts = line.split(" ");
        switch (parts[0]) {
          case "ANSWER" -> answers.get(Integer.parseInt(parts[1]))
              .complete(parts.length < 3 ? "" : new String(Base64.getDecoder().decode(parts[2]), StandardCharsets.UTF_8));
          case "DIAL" -> {
            int n = Integer.parseInt(parts[1]);
            int target = calls.size() + n;
            for (int k = 0; k < n; k++) {
              int i = next.getAndIncrement();
              CompletableFuture<String> answer = new CompletableFuture<>();
              answers.put(i, answer);
              Thread.startVirtualThread(() -> {
                try {
                  WebRtcCall call = transport.dial(offer -> {
                    out.println("OFFER " + i + " " + Base64.getEncoder().encodeToString(offer.getBytes(StandardCharsets.UTF_8)));
                    return answer.join();
                  });
                  call.onAudio(frame -> { });
                  calls.add(call);
                } catch (RuntimeException e) {
                  out.println("FAILED " + i + " " + e.getMessage());
                }
              });
            }
            Thread.startVirtualThread(() -> {
              long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
              while (calls.stream().filter(c -> c.state() == WebRtcCall.State.CONNECTED).count() < target) {
                if (System.nanoTime() > deadline) {
                  out.println("FAILED - " + calls.stream().filter(c -> c.state() == WebRtcCall.State.CONNECTED).count()
                      + " of " + target + " calls connected; the others: "
                      + calls.stream().filter(c -> c.state() != WebRtcCall.State.CONNECTED).map(WebRtcCall::toString).toList());
                  return;
                }
                try {
                  TimeUnit.MILLISECONDS.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
              out.println("READY " + target);
            });
          }
          case "CLOSE" -> { // the callers hang up, and stay ready for more
            calls.forEach(WebRtcCall::close);
            calls.clear();
            out.println("CLOSED");
          }
          case "HANGUP" -> {
            talker.interrupt();
            return;
          }
          default -> throw new IllegalArgumentException("unknown command: " + line);
        }
      }
    }
  }

  /** Harmonics of a 140 Hz voice whose loudness rises and falls four times a second. */
  static short[] syntheticVoice(int rate, int millis) {
    short[] pcm = new short[rate * millis / 1000];
    for (int i = 0; i < pcm.length; i++) {
      double t = (double) i / rate;
      double envelope = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
      double v = 0;
      for (int h = 1; h <= 8; h++) {
        v += Math.sin(2 * Math.PI * 140 * h * t + h) / h;
      }
      pcm[i] = (short) (5000 * envelope * v);
    }
    return pcm;
  }
}
