package dev.yaad.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sharing of model calls between concurrent background callers, with a model whose "vector" of a text is its length. */
class SharedRunsTest {
  private final List<List<String>> calls = Collections.synchronizedList(new ArrayList<>());
  private final CountDownLatch firstCallMayEnd = new CountDownLatch(1);
  private final CountDownLatch firstCallStarted = new CountDownLatch(1);
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  private List<float[]> lengths(List<String> texts) {
    calls.add(List.copyOf(texts));
    if (calls.size() == 1) {
      firstCallStarted.countDown();
      try {
        firstCallMayEnd.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (texts.contains("boom")) {
      throw new IllegalStateException("the model failed on boom");
    }
    return texts.stream().map(t -> new float[] {t.length()}).toList();
  }

  private CompletableFuture<List<float[]>> embedInBackgroundAsync(SharedRuns runs, String... texts) {
    return CompletableFuture.supplyAsync(() -> {
      List<List<float[]>> out = new ArrayList<>();
      Embedder.inBackground(() -> out.add(embed(runs, texts)));
      return out.getFirst();
    }, threads);
  }

  private static List<float[]> embed(SharedRuns runs, String... texts) {
    try {
      return runs.embed(List.of(texts));
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  private static void awaitQueued(SharedRuns runs, int calls) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (runs.waitingCalls() < calls && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(runs.waitingCalls()).isEqualTo(calls);
  }

  @Test
  void backgroundCallersWaitingForABusyRunner_shareOneModelCall_eachGettingItsOwnVectors() throws Exception {
    SharedRuns runs = new SharedRuns(this::lengths, 1, 32);
    var first = embedInBackgroundAsync(runs, "a");
    firstCallStarted.await(10, TimeUnit.SECONDS);
    var second = embedInBackgroundAsync(runs, "bb", "ccc");
    var third = embedInBackgroundAsync(runs, "dddd");
    awaitQueued(runs, 2);
    firstCallMayEnd.countDown();

    assertThat(first.get(10, TimeUnit.SECONDS)).extracting(v -> v[0]).containsExactly(1f);
    assertThat(second.get(10, TimeUnit.SECONDS)).extracting(v -> v[0]).containsExactly(2f, 3f);
    assertThat(third.get(10, TimeUnit.SECONDS)).extracting(v -> v[0]).containsExactly(4f);
    assertThat(calls).hasSize(2);
    assertThat(calls.get(1)).containsExactlyInAnyOrder("bb", "ccc", "dddd");
  }

  @Test
  void aSharedCallThatFails_isRunAgainPerCaller_soOnlyTheFailingCallerSeesTheError() throws Exception {
    SharedRuns runs = new SharedRuns(this::lengths, 1, 32);
    var first = embedInBackgroundAsync(runs, "a");
    firstCallStarted.await(10, TimeUnit.SECONDS);
    var bad = embedInBackgroundAsync(runs, "boom");
    var good = embedInBackgroundAsync(runs, "fine");
    awaitQueued(runs, 2);
    firstCallMayEnd.countDown();

    assertThat(first.get(10, TimeUnit.SECONDS)).hasSize(1);
    assertThat(good.get(10, TimeUnit.SECONDS)).extracting(v -> v[0]).containsExactly(4f);
    assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS)).hasRootCauseMessage("the model failed on boom");
  }

  @Test
  void aSharedCall_holdsAtMostMaxTexts_andTheRestRunNext() throws Exception {
    SharedRuns runs = new SharedRuns(this::lengths, 1, 2);
    var first = embedInBackgroundAsync(runs, "a");
    firstCallStarted.await(10, TimeUnit.SECONDS);
    var waiting = List.of(embedInBackgroundAsync(runs, "bb"), embedInBackgroundAsync(runs, "cc"), embedInBackgroundAsync(runs, "dd"));
    awaitQueued(runs, 3);
    firstCallMayEnd.countDown();

    first.get(10, TimeUnit.SECONDS);
    for (var w : waiting) {
      assertThat(w.get(10, TimeUnit.SECONDS)).extracting(v -> v[0]).containsExactly(2f);
    }
    assertThat(calls.subList(1, calls.size())).allSatisfy(c -> assertThat(c.size()).isLessThanOrEqualTo(2));
    assertThat(calls.subList(1, calls.size()).stream().mapToInt(List::size).sum()).isEqualTo(3);
  }

  @Test
  void aLiveCaller_runsAtOnce_whileBackgroundCallsWait() throws Exception {
    SharedRuns runs = new SharedRuns(this::lengths, 1, 32);
    var first = embedInBackgroundAsync(runs, "a");
    firstCallStarted.await(10, TimeUnit.SECONDS);
    var learned = embedInBackgroundAsync(runs, "learned");
    awaitQueued(runs, 1);

    assertThat(embed(runs, "saved")).extracting(v -> v[0]).containsExactly(5f); // while the first call still blocks
    assertThat(calls).containsExactly(List.of("a"), List.of("saved"));
    firstCallMayEnd.countDown();
    assertThat(learned.get(10, TimeUnit.SECONDS)).extracting(v -> v[0]).containsExactly(7f);
    first.get(10, TimeUnit.SECONDS);
  }

  @Test
  void anIdleCaller_runsAtOnceAlone() throws Exception {
    firstCallMayEnd.countDown();
    SharedRuns runs = new SharedRuns(this::lengths, 2, 32);

    assertThat(runs.embed(List.of("xyz"))).extracting(v -> v[0]).containsExactly(3f);
    assertThat(calls).containsExactly(List.of("xyz"));
  }
}
