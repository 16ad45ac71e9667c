package dev.yaad.webrtc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * On a host whose only network interface is loopback WebRTC gathers no candidate (it ignores
 * loopback adapters), so a call could never connect: {@code accept} must say so at once. Runs
 * {@link #main} in a JVM inside a fresh network namespace ({@code unshare -n}, which needs root,
 * as CI has); skipped with a visible line where that is not possible.
 */
class NoNetworkTest {

  @Test
  void call_onALoopbackOnlyHost_failsAtOnceWithTheReason() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String script = "ip link set lo up && exec " + java + " --enable-native-access=ALL-UNNAMED -cp '"
        + System.getProperty("java.class.path") + "' " + NoNetworkTest.class.getName();
    Process p;
    try {
      p = new ProcessBuilder("unshare", "-n", "sh", "-c", script).redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      skip("unshare is not installed: " + e.getMessage());
      return;
    }
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    if (output.contains("unshare failed") || output.contains("Operation not permitted")) {
      skip("cannot make a network namespace here (not root?): " + output.strip());
      return;
    }
    assertThat(output).as(output).contains("no-network: refused: no ICE candidate was gathered");
    assertThat(p.exitValue()).as(output).isZero();
  }

  private static void skip(String why) {
    System.out.println("SKIPPED: NoNetworkTest: " + why);
    Assumptions.abort(why);
  }

  /** In the namespace: a call between two transports must be refused, and nothing left open. */
  public static void main(String[] args) {
    try (WebRtcTransport server = WebRtcTransport.start(WebRtcConfig.defaults());
        WebRtcTransport client = WebRtcTransport.start(WebRtcConfig.defaults())) {
      try {
        client.dial(offer -> server.accept(offer).localDescription());
        System.out.println("no-network: a call was set up without any network");
        System.exit(1);
      } catch (WebRtcException e) {
        System.out.println("no-network: refused: " + e.getMessage());
      }
      if (server.openCalls() != 0 || client.openCalls() != 0) {
        System.out.println("no-network: calls left open");
        System.exit(1);
      }
    }
  }
}
