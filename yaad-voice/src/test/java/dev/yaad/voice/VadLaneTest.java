package dev.yaad.voice;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One session's frames leave the transport's thread, and still reach the VAD one at a time, in order. */
class VadLaneTest {
  private final ExecutorService threads = Executors.newFixedThreadPool(4);

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  @Test
  void frames_processedInArrivalOrder_oneAtATime_offTheCallersThread() {
    List<Integer> seen = new CopyOnWriteArrayList<>();
    List<Thread> on = new CopyOnWriteArrayList<>();
    AtomicBoolean busy = new AtomicBoolean();
    AtomicInteger overlaps = new AtomicInteger();
    VadLane lane = new VadLane(threads, (pcm, arrived) -> {
      if (!busy.compareAndSet(false, true)) {
        overlaps.incrementAndGet();
      }
      Thread.onSpinWait();
      seen.add((int) pcm[0]);
      on.add(Thread.currentThread());
      busy.set(false);
    }, () -> false, "test");
    int n = 5_000;
    for (int i = 0; i < n; i++) {
      lane.add(new short[] {(short) i, 0});
    }
    Await.until(() -> seen.size() == n, Duration.ofSeconds(10), "every frame processed");
    assertThat(overlaps.get()).isZero();
    for (int i = 0; i < n; i++) {
      assertThat(seen.get(i)).as("frame %d", i).isEqualTo(i);
    }
    assertThat(on).doesNotContain(Thread.currentThread());
  }

  @Test
  void aFullLane_makesTheTransportWait_andDropsNothing() throws Exception {
    Object gate = new Object();
    AtomicBoolean open = new AtomicBoolean();
    AtomicInteger samples = new AtomicInteger();
    VadLane lane = new VadLane(threads, (pcm, arrived) -> {
      synchronized (gate) {
        while (!open.get()) {
          try {
            gate.wait();
          } catch (InterruptedException e) {
            return;
          }
        }
      }
      samples.addAndGet(pcm.length);
    }, () -> false, "test");
    int frame = 960; // 20 ms at 48 kHz
    int frames = 2 * VadLane.MAX_QUEUED_SAMPLES / frame;
    AtomicInteger added = new AtomicInteger();
    Thread transport = Thread.ofVirtual().start(() -> {
      for (int i = 0; i < frames; i++) {
        lane.add(new short[frame]);
        added.incrementAndGet();
      }
    });
    Await.until(() -> added.get() >= VadLane.MAX_QUEUED_SAMPLES / frame, Duration.ofSeconds(10), "the lane filled");
    Thread.sleep(200);
    assertThat(added.get()).as("frames the transport got rid of with the VAD stuck").isLessThanOrEqualTo(VadLane.MAX_QUEUED_SAMPLES / frame + 1);
    synchronized (gate) {
      open.set(true);
      gate.notifyAll();
    }
    transport.join(10_000);
    Await.until(() -> samples.get() == frames * frame, Duration.ofSeconds(10), "every sample processed");
  }
}
