package dev.yaad.server.http;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most {@code max} open connections from one client address; the next one is closed as soon
 * as it opens. Counts TCP connections, not Jetty's {@link Connection}s: a WebSocket upgrade
 * swaps the connection on the same socket, which stays one. A server bean, like Jetty's own
 * {@code ConnectionLimit}: on start it listens to every connector of the server.
 */
final class ConnectionsPerIp extends AbstractLifeCycle implements Connection.Listener {
  private static final Logger log = LoggerFactory.getLogger(ConnectionsPerIp.class);

  private final int max;
  private final ConcurrentHashMap<String, AtomicInteger> open = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<EndPoint, String> sockets = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Boolean> warned = new ConcurrentHashMap<>();
  private final Server server;

  ConnectionsPerIp(int max, Server server) {
    this.max = max;
    this.server = server;
  }

  @Override
  protected void doStart() {
    for (Connector connector : server.getConnectors()) {
      if (connector instanceof AbstractConnector c) {
        c.addBean(this);
      }
    }
  }

  @Override
  public void onOpened(Connection connection) {
    EndPoint socket = connection.getEndPoint();
    String ip = ip(socket.getRemoteSocketAddress());
    if (ip == null || sockets.putIfAbsent(socket, ip) != null) {
      return; // not an IP connection, or an upgrade on a socket already counted
    }
    int now = open.computeIfAbsent(ip, k -> new AtomicInteger()).incrementAndGet();
    if (now > max) {
      if (warned.putIfAbsent(ip, Boolean.TRUE) == null) {
        log.warn("http: {} has {} connections open, the limit per address; closing its new ones until it has fewer", ip, max);
      }
      socket.close();
    }
  }

  @Override
  public void onClosed(Connection connection) {
    EndPoint socket = connection.getEndPoint();
    if (socket.isOpen()) {
      return; // upgraded: the socket lives on under its next connection
    }
    String ip = sockets.remove(socket);
    if (ip == null) {
      return;
    }
    AtomicInteger count = open.get(ip);
    if (count != null && count.decrementAndGet() <= 0) {
      open.computeIfPresent(ip, (k, c) -> c.get() <= 0 ? null : c);
    }
    if (count == null || count.get() < max / 2) {
      warned.remove(ip);
    }
  }

  private static String ip(SocketAddress address) {
    return address instanceof InetSocketAddress inet && inet.getAddress() != null ? inet.getAddress().getHostAddress() : null;
  }
}
