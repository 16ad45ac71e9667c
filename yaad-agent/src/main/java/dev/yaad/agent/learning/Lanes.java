package dev.yaad.agent.learning;

import dev.yaad.memory.embed.Embedder;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-user strands of learning work, bounded: a user's tasks run one after another, different
 * users' at the same time, on platform threads (their work embeds in native code, which would
 * pin a virtual thread's carrier): {@value #WORK_THREADS_PER_LLM_CALL} per permitted LLM call
 * ({@link LearningConfig#llmConcurrency()}), so that while some users' work waits for the LLM,
 * others' is embedded and stored. Two lanes per user: accepting turns (quick database writes) never
 * waits behind working on them (LLM calls that may take seconds), so a slow model never leaves
 * a finished turn only in memory. At most {@link LearningConfig#queueCapacity()} tasks wait in
 * memory; beyond it a submit is refused and the caller falls back on the database.
 */
final class Lanes {
  private static final Logger log = LoggerFactory.getLogger(Lanes.class);
  static final int WORK_THREADS_PER_LLM_CALL = 2;

  private final int capacity;
  private final ExecutorService workers;
  private final ExecutorService acceptThreads =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("yaad-learner-accept-", 0).factory());
  private final Map<String, CompletableFuture<Void>> acceptLanes = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Void>> workLanes = new ConcurrentHashMap<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final ReentrantLock idleLock = new ReentrantLock();
  private final Condition progress = idleLock.newCondition();
  private volatile boolean stopped;

  Lanes(LearningConfig config) {
    this.capacity = config.queueCapacity();
    int threads = WORK_THREADS_PER_LLM_CALL * config.llmConcurrency();
    // Platform threads, not virtual: the work embeds memories in native code (ONNX), which would hold one of
    // the few carrier threads every virtual thread runs on (as many as cores) and stall live sessions meanwhile.
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        Thread.ofPlatform().daemon().name("yaad-learner-", 0).factory());
    pool.allowCoreThreadTimeOut(true);
    this.workers = pool;
  }

  /**
   * Runs {@code task} after the user's earlier accepting tasks; false if the queue is full or
   * the lanes stopped. Once queued it runs even if the lanes stop meanwhile, so that a turn
   * handed over before {@link #stop} reaches the outbox.
   */
  boolean accept(String userId, Runnable task) {
    return submit(acceptLanes, acceptThreads, true, userId, task);
  }

  /**
   * Runs {@code task} after the user's earlier work, as background work for the embedder (its
   * embeddings batched with other users', on at most half the cores); false if the queue is full
   * or the lanes stopped.
   */
  boolean work(String userId, Runnable task) {
    return submit(workLanes, workers, false, userId, () -> Embedder.inBackground(task));
  }

  /** Tasks waiting in memory or running. */
  int queued() {
    return queued.get();
  }

  boolean stopped() {
    return stopped;
  }

  /** Waits at most {@code nanos} for any task to finish. */
  void awaitProgress(long nanos) throws InterruptedException {
    idleLock.lock();
    try {
      progress.await(nanos, TimeUnit.NANOSECONDS);
    } finally {
      idleLock.unlock();
    }
  }

  /** Takes no more tasks, lets queued turns be accepted and the current work finish (at most 5 s each). */
  void stop() {
    stopped = true;
    acceptThreads.shutdown();
    workers.shutdown();
    try {
      acceptThreads.awaitTermination(5, TimeUnit.SECONDS);
      if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      workers.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private boolean submit(Map<String, CompletableFuture<Void>> lane, ExecutorService threads, boolean essential,
      String userId, Runnable task) {
    if (stopped) {
      return false;
    }
    if (queued.incrementAndGet() > capacity) {
      queued.decrementAndGet();
      return false;
    }
    @SuppressWarnings("unchecked")
    CompletableFuture<Void>[] mine = new CompletableFuture[1];
    try {
      lane.compute(userId, (k, tail) -> {
        CompletableFuture<Void> start = tail == null ? CompletableFuture.completedFuture(null) : tail;
        mine[0] = start.handleAsync((v, e) -> {
          try {
            if (essential || !stopped) {
              task.run();
            }
          } catch (RuntimeException ex) {
            log.warn("learner: task for user {} failed: {}", userId, ex.toString()); // no stack trace: a database outage fails many
          } finally {
            queued.decrementAndGet();
            signalProgress();
          }
          return null;
        }, threads);
        return mine[0];
      });
    } catch (RejectedExecutionException e) {
      queued.decrementAndGet();
      return false;
    }
    mine[0].whenComplete((v, e) -> lane.remove(userId, mine[0]));
    return true;
  }

  private void signalProgress() {
    idleLock.lock();
    try {
      progress.signalAll();
    } finally {
      idleLock.unlock();
    }
  }
}
