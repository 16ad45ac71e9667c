package dev.yaad.webrtc;

import java.util.List;
import java.util.Objects;

/**
 * One STUN or TURN server the peer may use to find a path through NAT. Deployments behind NAT
 * need at least a STUN server; callers behind symmetric NAT or strict firewalls need TURN.
 * On one machine (tests, a developer's loopback) no server is needed: host candidates suffice.
 *
 * @param urls one or more URLs of the same server: {@code stun:host:port}, {@code stuns:...},
 *     {@code turn:host:port?transport=udp|tcp} or {@code turns:...}
 * @param username the TURN username, {@code null} for STUN
 * @param credential the TURN credential, {@code null} for STUN; never logged ({@link #toString()} masks it)
 */
public record IceServer(List<String> urls, String username, String credential) {

  /**
   * @throws IllegalArgumentException if there is no URL, a URL has another scheme, or a TURN
   *     URL comes without username and credential
   */
  public IceServer {
    Objects.requireNonNull(urls, "urls");
    if (urls.isEmpty()) {
      throw new IllegalArgumentException("an ICE server needs at least one URL");
    }
    urls = List.copyOf(urls);
    for (String url : urls) {
      if (url == null || !url.matches("(?i)(stuns?|turns?):\\S+")) {
        throw new IllegalArgumentException("ICE server URL must start with stun:, stuns:, turn: or turns:, got '" + url + "'");
      }
      boolean turn = url.regionMatches(true, 0, "turn", 0, 4);
      if (turn && (username == null || username.isEmpty() || credential == null || credential.isEmpty())) {
        throw new IllegalArgumentException("the TURN server " + url + " needs a username and a credential");
      }
    }
  }

  /** A STUN server, e.g. {@code stun("stun:stun.example.org:3478")}. */
  public static IceServer stun(String url) {
    return new IceServer(List.of(url), null, null);
  }

  /** A TURN server with its long-term credentials, e.g. {@code turn("turn:turn.example.org:3478", "user", "secret")}. */
  public static IceServer turn(String url, String username, String credential) {
    return new IceServer(List.of(url), username, credential);
  }

  @Override
  public String toString() {
    return "IceServer" + urls + (username == null ? "" : " user " + username + " credential ****");
  }
}
