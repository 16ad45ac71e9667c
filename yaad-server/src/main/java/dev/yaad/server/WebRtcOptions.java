package dev.yaad.server;

import dev.yaad.webrtc.IceServer;
import dev.yaad.webrtc.WebRtcConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * WebRTC audio for server voice ({@code docs/webrtc.md}): whether {@code yaad serve} offers it,
 * the STUN/TURN servers its side uses behind NAT, the UDP ports it may use and how many calls
 * it holds. Each option has an environment variable ({@link #ENV_VARS}).
 */
final class WebRtcOptions {
  static final Map<String, String> ENV_VARS = Map.of(
      "--webrtc", "YAAD_WEBRTC",
      "--webrtc-ice-servers", "YAAD_WEBRTC_ICE_SERVERS",
      "--webrtc-ice-username", "YAAD_WEBRTC_ICE_USERNAME",
      "--webrtc-ice-credential", "YAAD_WEBRTC_ICE_CREDENTIAL",
      "--webrtc-ports", "YAAD_WEBRTC_PORTS",
      "--webrtc-max-calls", "YAAD_WEBRTC_MAX_CALLS");

  private static final Pattern PORTS = Pattern.compile("(\\d{1,5})\\s*-\\s*(\\d{1,5})");

  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--webrtc", paramLabel = "on|off", defaultValue = "on",
      description = {"Offer WebRTC audio (Opus, the browser's echo cancellation) beside WebSocket audio when server voice is on.",
          "Env YAAD_WEBRTC. Default: ${DEFAULT-VALUE}."})
  String webrtc;

  @Option(names = "--webrtc-ice-servers", paramLabel = "URLS",
      description = {"STUN/TURN servers for Yaad's side of a call, comma-separated: stun:host:port, turn:host:port?transport=udp.",
          "Needed behind NAT; on one machine or a public address host candidates suffice. Env YAAD_WEBRTC_ICE_SERVERS. Default: none."})
  String iceServers;

  @Option(names = "--webrtc-ice-username", paramLabel = "USER",
      description = "Username for the TURN servers of --webrtc-ice-servers. Env YAAD_WEBRTC_ICE_USERNAME.")
  String iceUsername;

  // A secret: never ${DEFAULT-VALUE}, so --help cannot print it from the environment.
  @Option(names = "--webrtc-ice-credential", paramLabel = "SECRET",
      description = "Credential for the TURN servers of --webrtc-ice-servers (never logged). Env YAAD_WEBRTC_ICE_CREDENTIAL.")
  String iceCredential;

  @Option(names = "--webrtc-ports", paramLabel = "MIN-MAX",
      description = "UDP ports WebRTC may use, e.g. 40000-40999 (a firewall's open range). Env YAAD_WEBRTC_PORTS. Default: any.")
  String ports;

  @Option(names = "--webrtc-max-calls", paramLabel = "N", defaultValue = "" + WebRtcConfig.DEFAULT_MAX_CALLS,
      description = "Concurrent WebRTC calls on this server (the next offer gets an error). Env YAAD_WEBRTC_MAX_CALLS."
          + " Default: ${DEFAULT-VALUE}.")
  int maxCalls;

  /** The transport's configuration, or {@code null} when {@code --webrtc off}; bad values are usage errors. */
  WebRtcConfig config() {
    boolean on = switch (webrtc.strip().toLowerCase(java.util.Locale.ROOT)) {
      case "on", "true" -> true;
      case "off", "false" -> false;
      default -> throw new ParameterException(spec.commandLine(), "Invalid value for option '--webrtc': '" + webrtc
          + "'; write on or off");
    };
    if (!on) {
      return null;
    }
    WebRtcConfig.Builder builder = WebRtcConfig.builder();
    try {
      builder.iceServers(iceServers());
    } catch (IllegalArgumentException e) {
      throw invalid("--webrtc-ice-servers", e);
    }
    if (ports != null && !ports.isBlank()) {
      Matcher m = PORTS.matcher(ports.strip());
      if (!m.matches()) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--webrtc-ports': '" + ports
            + "'; write a range such as 40000-40999");
      }
      try {
        builder.portRange(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
      } catch (IllegalArgumentException e) {
        throw invalid("--webrtc-ports", e);
      }
    }
    try {
      builder.maxCalls(maxCalls);
    } catch (IllegalArgumentException e) {
      throw invalid("--webrtc-max-calls", e);
    }
    return builder.build();
  }

  private List<IceServer> iceServers() {
    List<IceServer> servers = new ArrayList<>();
    if (iceServers == null || iceServers.isBlank()) {
      return servers;
    }
    for (String url : iceServers.split(",")) {
      String u = url.strip();
      if (u.isEmpty()) {
        continue;
      }
      boolean turn = u.regionMatches(true, 0, "turn", 0, 4);
      servers.add(turn ? IceServer.turn(u, iceUsername, iceCredential) : IceServer.stun(u));
    }
    return servers;
  }

  private ParameterException invalid(String option, IllegalArgumentException e) {
    return new ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + e.getMessage());
  }
}
