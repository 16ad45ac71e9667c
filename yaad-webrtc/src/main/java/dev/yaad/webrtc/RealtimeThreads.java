package dev.yaad.webrtc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts WebRTC's real-time threads back under the normal scheduler.
 *
 * <p>Where the process may (as root, or with {@code CAP_SYS_NICE} or an {@code RLIMIT_RTPRIO}),
 * WebRTC runs its audio threads under {@code SCHED_FIFO}: the audio device's threads at
 * priority 98, and one Opus encoder task queue per sending call at 49. Its signalling, worker
 * and network threads, which every setup and every close must pass through, stay normal. When
 * the real-time audio work exceeds the CPU (many calls on few cores, or a busy host), the
 * real-time threads take up to the kernel's real-time share (95%) of every core, and the rest
 * of the process gets what is left: a close that needs a few ms of the worker thread's time
 * took minutes (measured: the worker runnable for 307 s and run for 9 s, with 70 encoder
 * threads on one core; the one benchmark whose close did not return for 15 minutes had 100
 * on two busy cores). A server has no sound card to keep fed, the browser's jitter buffer
 * absorbs late packets, and audio that falls behind under overload is better than calls that
 * can no longer be closed: so every thread of the process is returned to {@code SCHED_OTHER}
 * ({@code chrt --all-tasks --other --pid 0 <pid>}, util-linux) whenever a real-time one shows
 * up. That is after the engine starts and after each call's setup, when WebRTC creates them.
 */
final class RealtimeThreads {
  private static final Logger log = LoggerFactory.getLogger(RealtimeThreads.class);
  private static final Path TASKS = Path.of("/proc/self/task");
  private static final AtomicBoolean warned = new AtomicBoolean();

  private RealtimeThreads() {}

  /**
   * Returns every real-time thread of this process to the normal scheduler, if there is one.
   * Never throws; a failure is logged once.
   *
   * @return how many real-time threads there were before
   */
  static int demote() {
    int realtime = count();
    if (realtime == 0) {
      return 0;
    }
    String pid = Long.toString(ProcessHandle.current().pid());
    try {
      Process chrt = new ProcessBuilder("chrt", "--all-tasks", "--other", "--pid", "0", pid)
          .redirectErrorStream(true).start();
      String output = new String(chrt.getInputStream().readAllBytes()).strip();
      if (!chrt.waitFor(5, TimeUnit.SECONDS) || chrt.exitValue() != 0) {
        warnOnce(realtime, "chrt failed: " + output);
      }
    } catch (IOException e) {
      warnOnce(realtime, "chrt (util-linux) could not run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return realtime;
  }

  /** Threads of this process under a real-time policy (SCHED_FIFO or SCHED_RR). */
  static int count() {
    int realtime = 0;
    try (Stream<Path> tasks = Files.list(TASKS)) {
      for (Path task : tasks.toList()) {
        if (isRealtime(task)) {
          realtime++;
        }
      }
    } catch (IOException e) {
      return 0; // no /proc: not Linux, nothing to do
    }
    return realtime;
  }

  private static boolean isRealtime(Path task) {
    String stat;
    try {
      stat = Files.readString(task.resolve("stat"));
    } catch (IOException e) {
      return false; // ended while we looked
    }
    // Fields after the command name (which may hold spaces) in parentheses; policy is field 41.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    int policy = Integer.parseInt(fields[41 - 3]);
    return policy == 1 || policy == 2; // SCHED_FIFO, SCHED_RR
  }

  private static void warnOnce(int realtime, String why) {
    if (warned.compareAndSet(false, true)) {
      log.warn("webrtc: {} WebRTC threads run real-time and could not be returned to the normal scheduler ({});"
          + " under overload they can starve WebRTC's own control threads (docs/webrtc.md)", realtime, why);
    }
  }
}
