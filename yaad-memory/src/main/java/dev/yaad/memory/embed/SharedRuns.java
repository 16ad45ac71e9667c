package dev.yaad.memory.embed;

import ai.onnxruntime.OrtException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs the texts of callers who embed at the same time through the model together, on at
 * most {@code runners} of the callers' own threads at once. A caller who finds a runner free
 * runs at once (alone when the embedder is idle: no added wait); one who finds none waits, and
 * the next free runner takes the waiting callers' texts (up to {@code maxTexts}) in one model
 * call: live callers' first, then background ones' ({@link Embedder#inBackground}).
 * Background callers start at most half the runners (at least one), so learning's embeddings
 * neither queue a live turn's behind them nor take every core.
 *
 * <p>Why: on a busy server many sessions and the learner each embed one or a few short texts
 * at a time, and a model call on one short text costs a third more CPU per text than one on
 * several (all-MiniLM-L6-v2 on one thread: 4.8 ms per text alone, 3.3 ms in a batch of 16).
 *
 * <p>If a shared call fails, each caller's texts are run again alone, so one caller's
 * failure is never another's.
 */
final class SharedRuns {
  /** Bound while background work runs; see {@link Embedder#inBackground}. */
  static final ThreadLocal<Boolean> BACKGROUND = ThreadLocal.withInitial(() -> false);

  /** The model: one call on any number of texts, vectors in the texts' order. */
  interface Model {
    List<float[]> embed(List<String> texts) throws OrtException;
  }

  private final Model model;
  private final int runners;
  private final int backgroundRunners;
  private final int maxTexts;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition finished = lock.newCondition();
  private final ArrayDeque<Call> live = new ArrayDeque<>();
  private final ArrayDeque<Call> background = new ArrayDeque<>();
  private int running;
  private int runningForBackground;

  SharedRuns(Model model, int runners, int maxTexts) {
    if (runners < 1 || maxTexts < 1) {
      throw new IllegalArgumentException("runners and maxTexts must be at least 1 (were " + runners + ", " + maxTexts + ")");
    }
    this.model = model;
    this.runners = runners;
    this.backgroundRunners = Math.max(1, runners / 2);
    this.maxTexts = maxTexts;
  }

  /** The vectors of {@code texts}, in order; the model's exception if it failed on them. */
  List<float[]> embed(List<String> texts) throws OrtException {
    boolean inBackground = BACKGROUND.get();
    Call mine = new Call(texts);
    lock.lock();
    try {
      (inBackground ? background : live).add(mine);
    } finally {
      lock.unlock();
    }
    while (true) {
      List<Call> batch;
      lock.lock();
      try {
        while (!mine.done && !mayRun(inBackground)) {
          finished.awaitUninterruptibly(); // at most the runs ahead of it: native calls cannot be interrupted anyway
        }
        if (mine.done) {
          return mine.result();
        }
        batch = take();
        running++;
        runningForBackground += inBackground ? 1 : 0;
      } finally {
        lock.unlock();
      }
      run(batch, inBackground);
    }
  }

  private boolean mayRun(boolean inBackground) {
    return running < runners && (!inBackground || runningForBackground < backgroundRunners);
  }

  /** Callers waiting for a runner (for tests). */
  int waitingCalls() {
    lock.lock();
    try {
      return live.size() + background.size();
    } finally {
      lock.unlock();
    }
  }

  /** The waiting calls, live ones first, each kind oldest first, up to {@link #maxTexts} texts (at least one call). */
  private List<Call> take() {
    List<Call> batch = new ArrayList<>();
    int texts = 0;
    for (ArrayDeque<Call> queue : List.of(live, background)) {
      while (!queue.isEmpty() && (batch.isEmpty() || texts + queue.peek().texts.size() <= maxTexts)) {
        Call next = queue.poll();
        texts += next.texts.size();
        batch.add(next);
      }
    }
    return batch;
  }

  private void run(List<Call> batch, boolean inBackground) {
    try {
      if (batch.size() == 1) {
        runAlone(batch.getFirst());
      } else {
        runTogether(batch);
      }
    } finally {
      lock.lock();
      try {
        running--;
        runningForBackground -= inBackground ? 1 : 0;
        for (Call c : batch) {
          if (c.vectors == null && c.error == null) { // the model threw an Error past us
            c.error = new IllegalStateException("the model call embedding these texts did not finish");
          }
          c.done = true;
        }
        finished.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private void runTogether(List<Call> batch) {
    List<String> all = new ArrayList<>();
    for (Call c : batch) {
      all.addAll(c.texts);
    }
    List<float[]> vectors;
    try {
      vectors = model.embed(all);
    } catch (OrtException | RuntimeException e) {
      batch.forEach(this::runAlone); // whose texts failed it: each caller gets its own outcome
      return;
    }
    int from = 0;
    for (Call c : batch) {
      c.vectors = vectors.subList(from, from + c.texts.size());
      from += c.texts.size();
    }
  }

  private void runAlone(Call call) {
    try {
      call.vectors = model.embed(call.texts);
    } catch (OrtException | RuntimeException e) {
      call.error = e;
    }
  }

  /** One caller's texts; the runner writes the result before {@code done}, which is read under the lock. */
  private static final class Call {
    final List<String> texts;
    boolean done;
    List<float[]> vectors;
    Exception error;

    Call(List<String> texts) {
      this.texts = texts;
    }

    List<float[]> result() throws OrtException {
      if (error instanceof OrtException e) {
        throw e;
      }
      if (error != null) {
        throw (RuntimeException) error;
      }
      return vectors;
    }
  }
}
