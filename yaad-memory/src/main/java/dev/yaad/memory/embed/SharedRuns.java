package dev.yaad.memory.embed;

import ai.onnxruntime.OrtException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The model calls of background work ({@link Embedder#inBackground}: learning) are shared and
 * bounded: at most {@code runners} at once, on the callers' own threads; a background caller
 * who finds them all busy waits, and the next free runner takes the waiting callers' texts (up
 * to {@code maxTexts}) in one model call. Live callers (a session's saveMemory, a search) run
 * their own call at once, as before: they never queue behind learning.
 *
 * <p>Why: under load the learner embeds a few short texts per user at a time, from many
 * threads, and a model call on one short text costs a third more CPU per text than one on
 * several (all-MiniLM-L6-v2 on one thread: 4.8 ms per text alone, 3.3 ms in a batch of 16);
 * bounding its calls also keeps learning's embedding from taking every core from live turns.
 *
 * <p>If a shared call fails, each caller's texts are run again alone, so one caller's
 * failure is never another's.
 */
final class SharedRuns {
  /** True on a thread while it runs background work; see {@link Embedder#inBackground}. */
  static final ThreadLocal<Boolean> BACKGROUND = ThreadLocal.withInitial(() -> false);

  /** The model: one call on any number of texts, vectors in the texts' order. */
  interface Model {
    List<float[]> embed(List<String> texts) throws OrtException;
  }

  private final Model model;
  private final int runners;
  private final int maxTexts;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition finished = lock.newCondition();
  private final ArrayDeque<Call> waiting = new ArrayDeque<>();
  private int running;

  SharedRuns(Model model, int runners, int maxTexts) {
    if (runners < 1 || maxTexts < 1) {
      throw new IllegalArgumentException("runners and maxTexts must be at least 1 (were " + runners + ", " + maxTexts + ")");
    }
    this.model = model;
    this.runners = runners;
    this.maxTexts = maxTexts;
  }

  /** The vectors of {@code texts}, in order; the model's exception if it failed on them. */
  List<float[]> embed(List<String> texts) throws OrtException {
    if (!BACKGROUND.get()) {
      return model.embed(texts);
    }
    Call mine = new Call(texts);
    lock.lock();
    try {
      waiting.add(mine);
    } finally {
      lock.unlock();
    }
    while (true) {
      List<Call> batch;
      lock.lock();
      try {
        while (!mine.done && running >= runners) {
          finished.awaitUninterruptibly(); // at most the runs ahead of it: native calls cannot be interrupted anyway
        }
        if (mine.done) {
          return mine.result();
        }
        batch = take();
        running++;
      } finally {
        lock.unlock();
      }
      run(batch);
    }
  }

  /** Callers waiting for a runner (for tests). */
  int waitingCalls() {
    lock.lock();
    try {
      return waiting.size();
    } finally {
      lock.unlock();
    }
  }

  /** The waiting calls, oldest first, up to {@link #maxTexts} texts (at least one call). */
  private List<Call> take() {
    List<Call> batch = new ArrayList<>();
    int texts = 0;
    while (!waiting.isEmpty() && (batch.isEmpty() || texts + waiting.peek().texts.size() <= maxTexts)) {
      Call next = waiting.poll();
      texts += next.texts.size();
      batch.add(next);
    }
    return batch;
  }

  private void run(List<Call> batch) {
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
