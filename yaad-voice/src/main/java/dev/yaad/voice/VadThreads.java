package dev.yaad.voice;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The sessions' VAD: platform threads named {@code yaad-vad-N} (the ONNX call is native, and on a
 * virtual thread would hold a carrier the sessions' provider calls wait for). Each thread takes
 * every {@link VadLane} with a frame waiting at that moment (up to {@value #MAX_BATCH}; it waits
 * for nothing more), one frame of each, and runs the windows those frames complete in one call of
 * the model, each session with its own state: a window costs about half as much CPU in a batch of
 * 4 as alone, and less than that in larger ones. Batches are as large as the VAD is behind: when
 * it keeps up, a frame is run as it arrives. A lane is in one batch at a time, so its frames are
 * processed one after another, in order.
 */
final class VadThreads implements AutoCloseable {
  /** At most this many sessions' frames in one batch: ~2 ms of work. */
  static final int MAX_BATCH = 64;

  private final SileroVad.Model model;
  private final LinkedBlockingQueue<VadLane> ready = new LinkedBlockingQueue<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stopped;
  private final LongAdder runs = new LongAdder();
  private final LongAdder windows = new LongAdder();

  VadThreads(SileroVad.Model model, int count) {
    this.model = model;
    for (int i = 1; i <= count; i++) {
      threads.add(Thread.ofPlatform().name("yaad-vad-" + i).daemon().start(this::run));
    }
  }

  /** Queues a lane that has a frame waiting and is in no batch. */
  void schedule(VadLane lane) {
    if (stopped) {
      throw new RejectedExecutionException("the voice is shutting down");
    }
    ready.add(lane);
  }

  private void run() {
    List<VadLane> batch = new ArrayList<>(MAX_BATCH);
    List<VadLane> full = new ArrayList<>(MAX_BATCH);
    List<SileroVad> vads = new ArrayList<>(MAX_BATCH);
    while (!stopped) {
      try {
        batch.add(ready.take());
      } catch (InterruptedException e) {
        return;
      }
      ready.drainTo(batch, MAX_BATCH - 1);
      process(batch, full, vads);
      for (VadLane lane : batch) {
        if (lane.frameDone()) {
          ready.add(lane);
        }
      }
      batch.clear();
    }
  }

  /** One frame of each lane: their windows, batch by batch, until every frame is used up. */
  private void process(List<VadLane> batch, List<VadLane> full, List<SileroVad> vads) {
    for (VadLane lane : batch) {
      lane.nextFrame();
    }
    do {
      full.clear();
      vads.clear();
      for (VadLane lane : batch) {
        if (lane.fill()) {
          full.add(lane);
          vads.add(lane.vad());
        }
      }
      if (full.isEmpty()) {
        return;
      }
      float[] p;
      runs.increment();
      windows.add(vads.size());
      try {
        p = model.probabilities(vads);
      } catch (RuntimeException e) {
        for (VadLane lane : full) {
          lane.windowLost(e);
        }
        continue;
      }
      for (int i = 0; i < p.length; i++) {
        full.get(i).windowDone(p[i]);
      }
    } while (true);
  }

  /** Runs of the model so far. */
  long runs() {
    return runs.sum();
  }

  /** Windows run so far: {@code windows() / runs()} is the mean batch. */
  long windows() {
    return windows.sum();
  }

  /** Stops the threads; returns once none runs the model any more (or after 5 s). */
  @Override
  public void close() {
    stopped = true;
    threads.forEach(Thread::interrupt);
    try {
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(5));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
