package dev.yaad.server.auth;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The two browser-facing checks of {@link Access}: whether a {@code Host} names this machine
 * by a loopback name or address (an open server answers to nothing else, so a page that
 * reached it under a name of its own, by DNS rebinding, is refused), and whether an
 * {@code Origin} is the server's own or an allowed one (a WebSocket upgrade from any other
 * page is refused). Names are never resolved: resolving is what a rebinding attack subverts.
 */
final class Origins {
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private Origins() {}

  /**
   * True for {@code localhost}, any {@code *.localhost} (browsers map those to loopback
   * themselves), {@code 127.0.0.0/8} and {@code [::1]}, each with or without a port; and for
   * no {@code Host} at all (HTTP/1.0 clients, which are not browsers).
   */
  static boolean isLoopbackHost(String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) {
      return true;
    }
    String host = hostOf(hostHeader.strip()).toLowerCase(Locale.ROOT);
    if (host.equals("localhost") || host.endsWith(".localhost")) {
      return true;
    }
    if (IPV4.matcher(host).matches()) {
      String[] octets = host.split("\\.");
      for (String octet : octets) {
        if (Integer.parseInt(octet) > 255) {
          return false;
        }
      }
      return octets[0].equals("127");
    }
    if (host.startsWith("[")) {
      try {
        return InetAddress.getByName(host).isLoopbackAddress(); // a bracketed literal: parsed, never looked up
      } catch (UnknownHostException e) {
        return false;
      }
    }
    return false;
  }

  /**
   * True if {@code origin} is the page of this very server ({@code hostHeader} names the same
   * host and port) or one of {@code allowed} (normalised by {@link #parseAllowed}).
   */
  static boolean isAllowedOrigin(String origin, String hostHeader, List<String> allowed) {
    String normal;
    try {
      normal = normalise(origin);
    } catch (IllegalArgumentException e) {
      return false; // "null" (a sandboxed frame, a file), or something that is no origin
    }
    return allowed.contains(normal) || sameOrigin(normal, hostHeader);
  }

  /** An origin for the allow-list, normalised; refuses anything else naming the rule. */
  static String parseAllowed(String entry) {
    try {
      return normalise(entry);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("allowed origin '" + entry + "' is not an origin: write scheme://host[:port] as"
          + " browsers send it, such as https://app.example.com or http://localhost:5173 (no path, no wildcard)");
    }
  }

  /** {@code scheme://host[:port]} in lower case, without a default port. */
  private static String normalise(String origin) {
    URI uri;
    try {
      uri = new URI(origin.strip());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(e.getMessage());
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    boolean bare = (uri.getRawPath() == null || uri.getRawPath().isEmpty()) && uri.getRawQuery() == null
        && uri.getRawFragment() == null && uri.getRawUserInfo() == null;
    if (!("http".equals(scheme) || "https".equals(scheme)) || uri.getHost() == null || !bare) {
      throw new IllegalArgumentException("not an origin");
    }
    int port = uri.getPort();
    boolean defaultPort = port == -1 || port == defaultPort(scheme);
    return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
  }

  /** The browser leaves the port out of {@code Host} exactly when it is the scheme's default. */
  private static boolean sameOrigin(String normalOrigin, String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) {
      return false;
    }
    URI origin = URI.create(normalOrigin);
    String host = hostHeader.strip().toLowerCase(Locale.ROOT);
    String originHost = origin.getHost();
    String expected = origin.getPort() == -1 ? originHost : originHost + ":" + origin.getPort();
    String withDefault = originHost + ":" + defaultPort(origin.getScheme());
    return host.equals(expected) || (origin.getPort() == -1 && host.equals(withDefault));
  }

  private static int defaultPort(String scheme) {
    return "https".equals(scheme) ? 443 : 80;
  }

  /** {@code example.com:8080} → {@code example.com}; {@code [::1]:8080} → {@code [::1]}. */
  private static String hostOf(String hostHeader) {
    if (hostHeader.startsWith("[")) {
      int end = hostHeader.indexOf(']');
      return end < 0 ? hostHeader : hostHeader.substring(0, end + 1);
    }
    int colon = hostHeader.lastIndexOf(':');
    return colon < 0 ? hostHeader : hostHeader.substring(0, colon);
  }
}
