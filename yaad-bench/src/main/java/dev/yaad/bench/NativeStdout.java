package dev.yaad.bench;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.Charset;

/**
 * Keeps the process's standard output for Java alone: whatever native code writes there goes
 * to standard error instead.
 *
 * <p>A benchmark's JSON must be the last line of stdout, but native libraries print to file
 * descriptor 1 on threads of their own, at moments no Java code orders: webrtc-java's
 * threads print "VM attach current thread failed" / "Failed to attach thread N" when they
 * try to reach a JVM that is exiting, after {@code main} printed its JSON and after every
 * engine was disposed. So before any benchmark runs, descriptor 1 is duplicated for Java's
 * {@code System.out} and then pointed at descriptor 2: native output of any thread, at any
 * time (including libc's buffer flushed at exit), lands on stderr, and stdout carries only
 * what Java prints. Where that cannot be done (no /proc, stdout a socket), nothing changes.
 */
final class NativeStdout {
  private NativeStdout() {}

  interface C extends Library {
    int dup(int fd);

    int dup2(int from, int to);

    int close(int fd);
  }

  /** Redirects native writes to fd 1 onto stderr, keeping Java's System.out on the real stdout. */
  static void toStderr() {
    C c;
    try {
      c = Native.load("c", C.class);
    } catch (UnsatisfiedLinkError e) {
      return;
    }
    System.out.flush();
    int saved = c.dup(1);
    if (saved < 0) {
      return;
    }
    PrintStream javaOut;
    try {
      // The same pipe, file or terminal, opened anew (append: a redirected file keeps what is in it).
      javaOut = new PrintStream(new FileOutputStream("/proc/self/fd/" + saved, true), true, stdoutCharset());
    } catch (IOException e) {
      c.close(saved);
      return;
    }
    c.close(saved);
    if (c.dup2(2, 1) < 0) {
      javaOut.close();
      return;
    }
    System.setOut(javaOut);
  }

  private static Charset stdoutCharset() {
    String name = System.getProperty("stdout.encoding");
    return name == null ? Charset.defaultCharset() : Charset.forName(name);
  }
}
