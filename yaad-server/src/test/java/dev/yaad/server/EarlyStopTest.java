package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.store.StoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping a server while the in-process embedding model is still loading must not crash
 * the JVM. ONNX Runtime builds its session in native code and frees its environment in a JVM
 * shutdown hook of its own; a process that begins to exit meanwhile dies of SIGSEGV in
 * {@code libonnxruntime.so} (seen in 2 of 12 early stops). A crash kills the JVM, so each stop
 * runs in a JVM of its own, stopped at the moment the load is inside native session creation,
 * and the test reads its exit code and output.
 */
class EarlyStopTest {
  private static final String FATAL = "A fatal error has been detected by the Java Runtime Environment";
  private static final String STOPPING = "early-stop: stopping while";

  @Test
  void stopThenExit_whileTheModelLoads_exitsCleanly(@TempDir Path dir) throws Exception {
    for (int run = 0; run < 2; run++) {
      assertExitsCleanly(dir, "stop-" + run, StopThenExit.class);
    }
  }

  @Test
  void sigtermToYaadServe_whileTheModelLoads_exitsCleanly(@TempDir Path dir) throws Exception {
    for (int run = 0; run < 2; run++) {
      assertExitsCleanly(dir, "sigterm-" + run, SigtermToServe.class);
    }
  }

  /**
   * A SIGTERM while {@code serve} is still starting (the model begins to load meanwhile) is
   * handled as any other: the server stops once started and the JVM exits 0. Before, the
   * handlers came after the start, so such a signal began the JVM's exit at once (exit 143,
   * or SIGSEGV when ONNX Runtime's hook freed its environment under the load).
   */
  @Test
  void sigtermToYaadServe_whileItStarts_exitsCleanly(@TempDir Path dir) throws Exception {
    assertExitsCleanly(dir, "sigterm-starting", SigtermWhileStarting.class);
  }

  private static void assertExitsCleanly(Path dir, String name, Class<?> child) throws Exception {
    Path log = dir.resolve(name + ".log");
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-XX:ErrorFile=" + dir.resolve(name + "-hs_err.log"),
        "-cp", System.getProperty("java.class.path"), child.getName(),
        "jdbc:h2:file:" + dir.resolve(name + "-db").toAbsolutePath());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("%s: the child JVM exited within 2 minutes", name).isTrue();
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(output).as("%s: child output", name).contains(STOPPING).doesNotContain(FATAL);
    assertThat(process.exitValue()).as("%s: exit code; output:%n%s", name, output).isEqualTo(0);
  }

  /** Stops a server with {@link YaadServer#close()} while the model is in native code, then exits the JVM. */
  static final class StopThenExit {
    public static void main(String[] args) throws Exception {
      YaadServer server = new YaadServer(YaadServer.Config.of(StoreConfig.of(args[0])).withAddress("127.0.0.1", 0)).start();
      awaitNativeSessionCreation();
      server.close();
      System.exit(0);
    }
  }

  /** Runs {@code yaad serve} and sends this very JVM SIGTERM while the model is in native code. */
  static final class SigtermToServe {
    public static void main(String[] args) throws Exception {
      serveAndSigterm(args[0], EarlyStopTest::awaitNativeSessionCreation);
    }
  }

  /** Runs {@code yaad serve} and sends this very JVM SIGTERM while the server is starting. */
  static final class SigtermWhileStarting {
    public static void main(String[] args) throws Exception {
      Thread main = Thread.currentThread();
      serveAndSigterm(args[0], () -> {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!inServerStart(main) && System.nanoTime() < deadline) {
          LockSupport.parkNanos(200_000); // a poll of the main thread's stack, not a wait for time to pass
        }
        System.out.println(STOPPING + " the server starts" + (inServerStart(main) ? "" : " (not caught inside start)"));
        System.out.flush();
      });
    }

    private static boolean inServerStart(Thread main) {
      for (StackTraceElement frame : main.getStackTrace()) {
        if (frame.getClassName().equals(YaadServer.class.getName()) && frame.getMethodName().equals("start")) {
          return true;
        }
      }
      return false;
    }
  }

  /** Runs {@code yaad serve} on {@code dbUrl}; once {@code awaitMoment} returns, sends this very JVM SIGTERM. */
  static void serveAndSigterm(String dbUrl, Runnable awaitMoment) {
    Thread.ofPlatform().daemon().start(() -> {
      try {
        awaitMoment.run();
        new ProcessBuilder("kill", "-TERM", String.valueOf(ProcessHandle.current().pid())).inheritIO().start().waitFor();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    int code = Main.commandLine(Map.of()).execute("serve", "--port", "0", "--db-url", dbUrl);
    System.out.println("early-stop: serve returned " + code);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Waits until some thread is inside ONNX Runtime's native session creation (the model load's longest native call). */
  static void awaitNativeSessionCreation() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!inNativeSessionCreation() && System.nanoTime() < deadline) {
      LockSupport.parkNanos(200_000); // a poll of stack traces, not a wait for time to pass
    }
    System.out.println(STOPPING + " the model loads" + (inNativeSessionCreation() ? "" : " (not caught inside createSession)"));
    System.out.flush();
  }

  private static boolean inNativeSessionCreation() {
    for (StackTraceElement[] stack : Thread.getAllStackTraces().values()) {
      if (stack.length > 0 && stack[0].getMethodName().equals("createSession") && stack[0].isNativeMethod()) {
        return true;
      }
    }
    return false;
  }
}
