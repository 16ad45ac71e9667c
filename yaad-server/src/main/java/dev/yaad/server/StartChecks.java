package dev.yaad.server;

import io.javalin.util.JavalinBindException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Checks made before a server opens (and perhaps migrates) its database, so a doomed start changes nothing. */
final class StartChecks {
  private StartChecks() {}

  /**
   * Binds the address for a moment: a port already taken (another {@code yaad serve}, say)
   * fails here, before the database is opened or migrated, with what to do about it. Port 0
   * picks a free port and needs no check.
   *
   * @throws JavalinBindException the same failure the HTTP server's own bind would raise
   */
  static void requirePortFree(String host, int port) {
    if (port == 0) {
      return;
    }
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true); // as Jetty binds: a port in TIME_WAIT is free
      socket.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new JavalinBindException("port " + port + " on " + host + " is already in use (another 'yaad serve'?): stop that"
          + " process, or choose another port with --port (YAAD_PORT); nothing was opened", e);
    }
  }
}
