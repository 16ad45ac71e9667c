package dev.yaad.server;

import java.sql.Connection;
import java.sql.DriverManager;

/** Run in a second JVM by {@link StartupTest}: opens an H2 file database and holds it until standard input closes. */
public final class HoldH2 {
  public static void main(String[] args) throws Exception {
    try (Connection c = DriverManager.getConnection(args[0])) {
      System.out.println("open");
      System.out.flush();
      System.in.read(); // returns when the test closes our standard input
    }
  }
}
