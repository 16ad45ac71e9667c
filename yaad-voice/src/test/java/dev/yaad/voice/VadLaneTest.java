package dev.yaad.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.yaad.memory.testing.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each session's frames leave the transport's thread and still reach the VAD one at a time, in
 * order; windows of many sessions run in one batch and give each session what it gets alone.
 */
class VadLaneTest {
  private static SileroVad.Model model;
  private final List<VadThreads> started = new ArrayList<>();

  @BeforeAll
  static void load() {
    model = SileroVad.Model.load();
  }

  @AfterAll
  static void unload() {
    model.close();
  }

  @AfterEach
  void stop() {
    started.forEach(VadThreads::close);
  }

  private VadThreads threads(int n) {
    VadThreads t = new VadThreads(model, n);
    started.add(t);
    return t;
  }

  private static VadLane lane(VadThreads threads, VadLane.Sink sink) {
    return new VadLane(threads, sink, new SileroVad(model, 0.5f, 300, recording(new ArrayList<>())), () -> false, "test");
  }

  @Test
  void frames_processedInArrivalOrder_oneAtATime_offTheCallersThread() throws Exception {
    VadThreads threads = threads(4);
    int lanes = 3;
    int n = 5_000;
    List<List<Integer>> seen = new ArrayList<>();
    List<Thread> on = new CopyOnWriteArrayList<>();
    AtomicInteger overlaps = new AtomicInteger();
    List<Thread> transports = new ArrayList<>();
    for (int l = 0; l < lanes; l++) {
      List<Integer> mine = new CopyOnWriteArrayList<>();
      seen.add(mine);
      AtomicBoolean busy = new AtomicBoolean();
      VadLane lane = lane(threads, (pcm, arrived) -> {
        if (!busy.compareAndSet(false, true)) {
          overlaps.incrementAndGet();
        }
        Thread.onSpinWait();
        mine.add((int) pcm[0]);
        on.add(Thread.currentThread());
        busy.set(false);
        return new short[0];
      });
      transports.add(Thread.ofVirtual().start(() -> {
        for (int i = 0; i < n; i++) {
          lane.add(new short[] {(short) i, 0});
        }
      }));
    }
    for (Thread t : transports) {
      t.join(10_000);
    }
    Await.until(() -> seen.stream().allMatch(s -> s.size() == n), Duration.ofSeconds(10), "every frame processed");
    assertThat(overlaps.get()).isZero();
    for (List<Integer> mine : seen) {
      for (int i = 0; i < n; i++) {
        assertThat(mine.get(i)).as("frame %d", i).isEqualTo(i);
      }
    }
    assertThat(on).doesNotContain(Thread.currentThread()).allMatch(t -> t.getName().startsWith("yaad-vad-"));
  }

  @Test
  void aFullLane_makesTheTransportWait_andDropsNothing() throws Exception {
    Object gate = new Object();
    AtomicBoolean open = new AtomicBoolean();
    AtomicInteger samples = new AtomicInteger();
    VadLane lane = lane(threads(2), (pcm, arrived) -> {
      synchronized (gate) {
        while (!open.get()) {
          try {
            gate.wait();
          } catch (InterruptedException e) {
            return new short[0];
          }
        }
      }
      samples.addAndGet(pcm.length);
      return new short[0];
    });
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

  /**
   * A window the model fails on is lost, not retried for ever: the lane goes on to its next frame
   * (without the fix the VAD thread ran the same full window again and again, and the session's
   * audio went nowhere). A closed model fails every run.
   */
  @Test
  void aWindowTheModelFailsOn_isLost_andTheLaneGoesOn() throws Exception {
    SileroVad.Model failing = SileroVad.Model.load();
    failing.close();
    VadThreads threads = new VadThreads(failing, 1);
    started.add(threads);
    AtomicInteger frames = new AtomicInteger();
    VadLane lane = lane(threads, (pcm, arrived) -> {
      frames.incrementAndGet();
      return pcm;
    });
    lane.add(new short[3 * 512]); // three windows at 16 kHz
    lane.add(new short[3 * 512]);
    Await.until(() -> frames.get() == 2, Duration.ofSeconds(10), "both frames reached the VAD");
    Await.until(() -> threads.runs() >= 2, Duration.ofSeconds(10), "the second frame's window ran");
    assertThat(threads.runs()).as("runs of the model: one per frame, whose first window failed").isEqualTo(2);
  }

  /**
   * Eight sessions of flite speech, in frames of different sizes (so windows straddle frames), all
   * handed over at once to one VAD thread: their windows run in batches, and each session gets the
   * probabilities the model gives its audio run alone, window by window.
   */
  @Test
  void batchedWindows_equalEachSessionRunAlone() throws Exception {
    String[] said = {"the weather is nice today", "my brother lives in new york", "wait, stop, I have a question",
        "I am going to Lahore next week to see my sister"};
    int[] frameSizes = {320, 512, 160, 1000, 333, 512, 2048, 320};
    int sessions = frameSizes.length;
    List<short[]> audio = new ArrayList<>();
    List<List<Float>> alone = new ArrayList<>();
    for (int s = 0; s < sessions; s++) {
      short[] speech = Fixtures.english(said[s % said.length], 16_000, 300 + 100 * s);
      audio.add(speech);
      List<Float> p = new ArrayList<>();
      new SileroVad(model, 0.5f, 300, recording(p)).accept(speech, speech.length);
      alone.add(p);
    }

    VadThreads threads = threads(1);
    CountDownLatch allQueued = new CountDownLatch(sessions);
    List<List<Float>> batched = new ArrayList<>();
    List<Thread> transports = new ArrayList<>();
    for (int s = 0; s < sessions; s++) {
      List<Float> p = Collections.synchronizedList(new ArrayList<>());
      batched.add(p);
      VadLane lane = new VadLane(threads, (pcm, arrived) -> {
        try {
          allQueued.await(); // the first batch starts with every session waiting
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return pcm;
      }, new SileroVad(model, 0.5f, 300, recording(p)), () -> false, "session-" + s);
      short[] speech = audio.get(s);
      int frame = frameSizes[s];
      transports.add(Thread.ofVirtual().start(() -> {
        for (int i = 0; i < speech.length; i += frame) {
          lane.add(Arrays.copyOfRange(speech, i, Math.min(speech.length, i + frame)));
          if (i == 0) {
            allQueued.countDown();
          }
        }
      }));
    }
    for (Thread t : transports) {
      t.join(30_000);
    }
    for (int s = 0; s < sessions; s++) {
      int session = s;
      Await.until(() -> batched.get(session).size() == alone.get(session).size(), Duration.ofSeconds(30), "session " + s + "'s windows");
    }
    for (int s = 0; s < sessions; s++) {
      List<Float> expected = alone.get(s);
      List<Float> got = batched.get(s);
      assertThat(expected).as("session %d's windows", s).hasSizeGreaterThan(50).anyMatch(p -> p > 0.9f);
      for (int w = 0; w < expected.size(); w++) {
        assertThat(got.get(w)).as("session %d, window %d", s, w).isCloseTo(expected.get(w), within(1e-4f));
      }
    }
    assertThat(threads.windows()).as("windows run, against runs of the model").isGreaterThan(2 * threads.runs());
  }

  private static SileroVad.Listener recording(List<Float> probabilities) {
    return new SileroVad.Listener() {
      @Override
      public void speechStarted(long startSample) {}

      @Override
      public void speechEnded(long startSample, long endSample) {}

      @Override
      public void window(float probability) {
        probabilities.add(probability);
      }
    };
  }
}
