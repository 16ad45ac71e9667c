package dev.yaad.agent.learning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.agent.AgentConfig;
import dev.yaad.agent.AgentRuntime;
import dev.yaad.agent.Session;
import dev.yaad.agent.SessionListener;
import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.agent.memory.MemoryAccess;
import dev.yaad.memory.Memories;
import dev.yaad.memory.StoreUnavailableException;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Await;
import dev.yaad.testing.ScriptedLlmServer.Answer;
import dev.yaad.testing.ScriptedLlmServer.Purpose;
import dev.yaad.testing.ScriptedLlmServer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Background learning against a real database; subclasses choose H2 or PostgreSQL. */
abstract class LearnerContract {
  static final Duration WAIT = Duration.ofSeconds(20);

  abstract StoreConfig config();

  void cleanUp() {}

  Memories store;
  MemoryAccess memory;
  ScriptedLlmServer llmServer;
  final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void start() {
    store = Memories.builder().store(config()).build();
    memory = new MemoriesAccess(store);
    llmServer = ScriptedLlmServer.start();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : toClose.reversed()) {
      c.close();
    }
    llmServer.close();
    store.close();
    cleanUp();
  }

  Llm llm(int retries) {
    Llm llm = Llm.openAiCompatible(LlmConfig.of(llmServer.baseUrl(), null, "scripted")
        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5)).withMaxRetries(retries));
    toClose.add(llm);
    return llm;
  }

  static LearningConfig fast() {
    return LearningConfig.defaults()
        .withBatch(3, Duration.ofHours(1))
        .withProfile(Duration.ofSeconds(1), Duration.ofHours(1), 0.85)
        .withRetry(Duration.ofMillis(50), Duration.ofMillis(200))
        .withLease(Duration.ofMillis(500), Duration.ofMillis(50));
  }

  Learner learner(LearningConfig config, Llm llm) {
    return learner(config, llm, store.dataSource());
  }

  Learner learner(LearningConfig config, Llm llm, javax.sql.DataSource dataSource) {
    Learner learner = Learner.builder().dataSource(dataSource).memory(memory).llm(llm).config(config).build();
    toClose.add(learner);
    return learner;
  }

  /** Rows in the outbox, counted straight in the database. */
  long outboxRows() throws java.sql.SQLException {
    try (var c = store.dataSource().getConnection(); var s = c.createStatement();
        var rs = s.executeQuery("SELECT COUNT(*) FROM agent_outbox")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  AgentRuntime runtime(Learner learner, Llm llm) {
    AgentRuntime runtime = AgentRuntime.builder().memory(memory).llm(llm).learner(learner)
        .config(AgentConfig.defaults().withGreetOnReady(false)).build();
    toClose.add(runtime);
    return runtime;
  }

  static void talk(Session session, String... userTexts) {
    for (String text : userTexts) {
      Await.done(session.reply(text).done());
    }
  }

  @Test
  void aCallerWhoHangsUpOnTheLastReply_stillHasThatTurnExtractedAtSessionEnd() {
    Llm llm = llm(0);
    Learner learner = learner(fast(), llm); // a batch of 3 and a pause of an hour: only the end can flush one turn
    // The caller leaves the moment the reply has ended, as the web page may on reply_done.
    SessionListener hangUp = new SessionListener() {
      @Override
      public void onSpeechEnded(Session session, dev.yaad.agent.Speech speech) {
        if (speech.kind() == dev.yaad.agent.Speech.Kind.REPLY) {
          session.close();
        }
      }
    };
    Session session = runtime(learner, llm).open("hang-up", hangUp);
    session.ready();
    talk(session, "I start my new job at the bank on Monday");
    Await.until(() -> learner.stats().turnsExtracted() == 1 && learner.pending() == 0, WAIT,
        "the one turn extracted at session end, not an hour later");
  }

  @Test
  void turns_areExtractedInBatches_andOneProfileRefreshCoversThem() {
    Llm llm = llm(0);
    Learner learner = learner(fast(), llm);
    List<Learned> learned = new java.util.concurrent.CopyOnWriteArrayList<>();
    learner.onLearned(learned::add);
    Session session = runtime(learner, llm).open("batcher");
    session.ready();
    // Each full batch is extracted before the next turns come, so the count of calls below
    // does not depend on how fast the extraction of one batch is against the next turns.
    talk(session,
        "I want to learn to play the sitar",
        "My sister Ayesha lives in Lahore",
        "I love long walks by the sea");
    Await.until(() -> learner.stats().turnsExtracted() == 3, WAIT, "the first batch extracted");
    talk(session,
        "I am planning a trip to Hunza next summer",
        "I work as a nurse in a big hospital",
        "I really enjoy cooking biryani for friends");
    Await.until(() -> learner.stats().turnsExtracted() == 6, WAIT, "the second batch extracted");
    talk(session, "I think kindness matters more than success");
    session.close();
    Await.until(() -> learner.stats().turnsExtracted() == 7 && learner.pending() == 0 && learner.stats().profilesSaved() == 1,
        WAIT, "all turns extracted, profile saved, outbox empty");

    Learner.Stats stats = learner.stats();
    assertThat(stats.turnsAccepted()).isEqualTo(7);
    assertThat(stats.extractionCalls()).isEqualTo(3); // 3 + 3 + the last one at session end
    assertThat(llmServer.count(Purpose.EXTRACT)).isEqualTo(3);
    assertThat(stats.profileCalls()).isEqualTo(1);
    assertThat(store.list("batcher", null, 20, null).items()).hasSize(7);
    assertThat(store.list("batcher", "GOAL", 20, null).items()).extracting(m -> m.content())
        .containsExactly("I want to learn to play the sitar");
    assertThat(store.profile("batcher").content()).contains("sitar");
    assertThat(learner.recentDecisions()).extracting(RefreshDecision::action).contains(RefreshDecision.Action.SAVED);
    assertThat(learned.stream().mapToInt(l -> l.added().size()).sum()).isEqualTo(7);
    assertThat(learned).filteredOn(l -> l.profile() != null).singleElement()
        .satisfies(l -> assertThat(l.profile().content()).contains("sitar"));
    // Extraction saw the whole batch in one request.
    assertThat(llmServer.calls(Purpose.EXTRACT).getFirst().lastUserMessage())
        .contains("USER: I want to learn to play the sitar", "USER: I love long walks by the sea");
  }

  @Test
  void aTurnQueuedBeforeTheUserIsDeleted_isNeverLearned_andLeavesNoRow() throws Exception {
    Llm llm = llm(0);
    Learner learner = learner(fast(), llm); // a batch of 3 and a pause of an hour: the turn waits in the outbox
    store.add("gone", dev.yaad.memory.NewMemory.of("FACT", "plays chess every Sunday"));
    learner.turnCompleted("gone", "s-gone", "I have a goldfish named Bubbles and I love him", "How lovely!");
    Await.until(() -> learner.stats().turnsAccepted() == 1, WAIT, "the turn in the outbox");
    assertThat(rowsOf("gone")).containsEntry("agent_outbox", 1L);

    store.deleteUser("gone");
    assertThat(learner.drain(WAIT)).isTrue(); // learning runs all it has

    assertThat(rowsOf("gone")).as("every table, after learning ran").containsOnly(
        Map.entry("users", 0L), Map.entry("memories", 0L), Map.entry("profiles", 0L), Map.entry("agent_outbox", 0L));
  }

  @Test
  void anExtractionUnderWayWhenTheUserIsDeleted_writesNothing_forThemOrTheirProfile() throws Exception {
    CountDownLatch deleted = new CountDownLatch(1);
    llmServer.rule(Purpose.EXTRACT, call -> {
      try {
        deleted.await(); // the model answers only once the user is gone
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return Answer.text("{\"memories\":[{\"category\":\"FACT\",\"content\":\"has a goldfish named Bubbles\",\"operation\":\"ADD\"}]}");
    });
    Llm llm = llm(0);
    Learner learner = learner(fast().withBatch(1, Duration.ofHours(1)).withProfile(Duration.ZERO, Duration.ZERO, 0.85), llm);
    learner.turnCompleted("midway", "s-midway", "I have a goldfish named Bubbles", "Lovely!");
    Await.until(() -> llmServer.count(Purpose.EXTRACT) == 1, WAIT, "the extraction waiting for the model");

    store.deleteUser("midway"); // its turn is deleted from the outbox, but the learner holds it in memory
    deleted.countDown();
    Await.until(() -> learner.stats().turnsExtracted() == 1, WAIT, "the extraction finished");
    assertThat(learner.drain(WAIT)).isTrue();

    assertThat(rowsOf("midway")).containsOnly(
        Map.entry("users", 0L), Map.entry("memories", 0L), Map.entry("profiles", 0L), Map.entry("agent_outbox", 0L));
    assertThat(learner.stats().memoriesChanged()).isZero();
    assertThat(llmServer.count(Purpose.PROFILE)).isZero();
  }

  @Test
  void anExtractedDeletion_removesOnlyAMemoryItClearlyNames() {
    Llm llm = llm(0);
    Learner learner = learner(fast().withBatch(1, Duration.ofHours(1)), llm);
    dev.yaad.memory.Memory chess = store.add("fish", dev.yaad.memory.NewMemory.of("INTEREST", "plays chess every Sunday")).memory();
    learner.turnCompleted("fish", "s-fish", "Please forget my goldfish now", "Done.");
    Await.until(() -> learner.stats().turnsExtracted() == 1 && learner.pending() == 0, WAIT, "the deletion extracted");
    assertThat(store.list("fish", null, 10, null).items()).as("the goldfish is not the chess").containsExactly(chess);

    dev.yaad.memory.Memory bubbles = store.add("fish", dev.yaad.memory.NewMemory.of("FACT", "has a goldfish named Bubbles")).memory();
    learner.turnCompleted("fish", "s-fish", "Please forget my goldfish Bubbles", "Done.");
    Await.until(() -> learner.stats().turnsExtracted() == 2 && learner.pending() == 0, WAIT, "the second deletion extracted");
    assertThat(store.list("fish", null, 10, null).items()).containsExactly(chess);
    assertThat(bubbles.id()).isNotEqualTo(chess.id());
  }

  /** The user's rows in each table that holds users' data, counted straight in the database. */
  Map<String, Long> rowsOf(String userId) throws java.sql.SQLException {
    Map<String, Long> rows = new java.util.TreeMap<>();
    try (var c = store.dataSource().getConnection()) {
      for (String table : List.of("users", "memories", "profiles", "agent_outbox")) {
        try (var ps = c.prepareStatement("SELECT COUNT(*) FROM " + table + " WHERE " + (table.equals("users") ? "id" : "user_id") + " = ?")) {
          ps.setString(1, userId);
          try (var rs = ps.executeQuery()) {
            rs.next();
            rows.put(table, rs.getLong(1));
          }
        }
      }
    }
    return rows;
  }

  @Test
  void sameFactsAgain_changeNothing_andNeedNoProfileRefresh() {
    Llm llm = llm(0);
    Learner learner = learner(fast().withProfile(Duration.ZERO, Duration.ZERO, 0.85), llm);
    AgentRuntime runtime = runtime(learner, llm);
    Session first = runtime.open("repeater");
    first.ready();
    talk(first, "I love reading Urdu novels at night");
    first.close();
    Await.until(() -> learner.stats().profilesSaved() == 1 && learner.pending() == 0, WAIT, "first profile");
    Session second = runtime.open("repeater");
    second.ready();
    talk(second, "I love reading Urdu novels at night");
    second.close();
    Await.until(() -> learner.stats().turnsExtracted() == 2 && learner.pending() == 0, WAIT, "second extraction");
    assertThat(learner.stats().memoriesChanged()).isEqualTo(1);
    assertThat(learner.stats().profileCalls()).isEqualTo(1);
    assertThat(store.list("repeater", null, 20, null).items()).hasSize(1);
  }

  @Test
  void profile_notMeaningfullyChanged_isNotSaved_andTheReasonIsRecorded() {
    llmServer.rule(Purpose.PROFILE, c -> Answer.text("The user likes green tea and lives in Multan."));
    store.putProfile("tea", "The user likes green tea, and lives in Multan", null);
    Llm llm = llm(0);
    Learner learner = learner(fast().withProfile(Duration.ZERO, Duration.ZERO, 0.85), llm);
    learner.memoryChanged("tea", "test change");
    Await.until(() -> learner.stats().profilesUnchanged() == 1, WAIT, "refresh decided");
    assertThat(store.profile("tea").version()).isEqualTo(1);
    RefreshDecision decision = learner.recentDecisions().getLast();
    assertThat(decision.action()).isEqualTo(RefreshDecision.Action.UNCHANGED);
    assertThat(decision.reason()).contains("test change", "not saved: similarity 1.00");
  }

  @Test
  void llmFailures_areRetriedWithBackoff_andNothingIsLost() {
    llmServer.fail(Purpose.EXTRACT, 2, 500).fail(Purpose.PROFILE, 1, 429);
    Llm llm = llm(0);
    Learner learner = learner(fast().withProfile(Duration.ZERO, Duration.ZERO, 0.85), llm);
    Session session = runtime(learner, llm).open("flaky");
    session.ready();
    talk(session, "I want to become a pilot one day");
    session.close();
    Await.until(() -> learner.stats().profilesSaved() == 1 && learner.pending() == 0, WAIT, "extracted and profiled");
    assertThat(learner.stats().failures()).isEqualTo(3);
    assertThat(llmServer.count(Purpose.EXTRACT)).isEqualTo(3);
    assertThat(learner.stats().turnsExtracted()).isEqualTo(1);
    assertThat(store.list("flaky", "GOAL", 20, null).items()).hasSize(1);
  }

  @Test
  void workOfACrashedRuntime_isFinishedByTheNextOne() throws Exception {
    // Runtime A: its extraction call never returns, then it dies.
    llmServer.hang(Purpose.EXTRACT, 1);
    Llm llmA = llm(0);
    LearningConfig config = fast().withBatch(3, Duration.ofMillis(300));
    CrashingDataSource databaseOfA = new CrashingDataSource(store.dataSource());
    Learner learnerA = learner(config, llmA, databaseOfA);
    Session session = runtime(learnerA, llmA).open("survivor");
    session.ready();
    talk(session, "I want to open a small bakery", "My son Bilal starts school soon", "I love the smell of rain",
        "I am going to visit my mother tomorrow");
    Await.until(() -> llmServer.count(Purpose.EXTRACT) == 1 && learnerA.stats().turnsAccepted() == 4, WAIT, "A mid-extraction");
    databaseOfA.crash(); // from here on A cannot write anything, nor release its lease
    llmA.close();
    assertThat(outboxRows()).isEqualTo(4);

    // Runtime B on the same database takes over once A's lease has expired.
    Learner learnerB = learner(config, llm(0));
    Await.until(() -> learnerB.stats().turnsExtracted() == 4 && learnerB.pending() == 0, WAIT, "B finished A's work");
    assertThat(store.list("survivor", null, 20, null).items()).extracting(m -> m.content()).containsExactlyInAnyOrder(
        "I want to open a small bakery", "My son Bilal starts school soon", "I love the smell of rain",
        "I am going to visit my mother tomorrow");
  }

  @Test
  void turnsWhoseCommitAnswerWasLost_areWrittenAgain_butKeptOnce() throws Exception {
    // The database restarts between committing a write of turns and answering it: the writer
    // sees a failure and writes the same turns again, which must not make second rows.
    CrashingDataSource database = new CrashingDataSource(store.dataSource());
    Outbox outbox = Outbox.open(database);
    List<TurnBuffer.Turn> turns = List.of(
        new TurnBuffer.Turn("twice", null, "{\"user\":\"I keep bees\"}", 1_000, "key-1"),
        new TurnBuffer.Turn("twice", null, "{\"user\":\"I grow figs\"}", 1_001, "key-2"));
    database.loseTheNextCommitsAnswer();
    assertThatThrownBy(() -> outbox.insertTurns(turns, 0)).isInstanceOf(StoreUnavailableException.class);
    assertThat(outbox.count("TURN")).as("committed though its answer was lost").isEqualTo(2);
    outbox.insertTurns(turns, 0);
    assertThat(outbox.count("TURN")).isEqualTo(2);
  }

  @Test
  void twoLearnersOnOneDatabase_extractEachTurnOnce() {
    // A pause long enough that the three turns are all written before the first falls due, on a loaded machine too.
    LearningConfig config = fast().withBatch(3, Duration.ofSeconds(1));
    Learner a = learner(config, llm(0));
    Learner b = learner(config, llm(0));
    // No session: the turns fall due after the pause, and both pollers see them at once.
    a.turnCompleted("shared", null, "I want to climb K2 one day", "Wow.");
    a.turnCompleted("shared", null, "My uncle Tariq taught me chess", "Nice.");
    a.turnCompleted("shared", null, "I love the smell of jasmine at night", "Lovely.");
    Await.until(() -> a.stats().turnsExtracted() + b.stats().turnsExtracted() == 3 && a.pending() == 0, WAIT, "extracted");
    assertThat(llmServer.count(Purpose.EXTRACT)).isEqualTo(1);
    assertThat(store.list("shared", null, 20, null).items()).hasSize(3);
  }

  @Test
  void manyUsersTurns_areLearnedConcurrently_withinTheLlmBound() {
    llmServer.latency(Duration.ofMillis(200), Duration.ZERO);
    Llm llm = llm(0);
    // A batch of one turn: each turn falls due at once. Profiles wait an hour: only extractions run.
    Learner learner = learner(fast().withBatch(1, Duration.ofHours(1)).withConcurrency(4, 10_000)
        .withProfile(Duration.ofHours(1), Duration.ofHours(1), 0.85), llm);
    int users = 24;
    for (int u = 0; u < users; u++) {
      learner.turnCompleted("many-" + u, "session-" + u, "My neighbour number " + u + " grows roses in the garden", "Nice.");
    }
    Await.until(() -> learner.stats().turnsExtracted() == users, WAIT, "every user's turn learned");
    // More than the two workers of old at once, never more than the bound.
    assertThat(llmServer.peakInFlight()).isGreaterThan(2).isLessThanOrEqualTo(4);
    assertThat(learner.llmCallsInFlight()).isZero();
  }

  @Test
  void theLlmBound_growsWhileWorkWaits_andShrinksWhenLiveRepliesSlowDown() {
    llmServer.latency(Duration.ofMillis(1_000), Duration.ZERO);
    Llm llm = llm(0);
    Learner learner = learner(fast().withBatch(1, Duration.ofHours(1)).withConcurrency(32, 10_000)
        .withProfile(Duration.ofHours(1), Duration.ofHours(1), 0.85), llm);
    assertThat(learner.llmCallsLimit()).as("it starts at 8").isEqualTo(8);
    int users = 120;
    for (int u = 0; u < users; u++) {
      learner.turnCompleted("grow-" + u, "session-" + u, "My cousin number " + u + " plays the sitar", "Nice.");
    }
    // Replies as fast as ever: work waits for calls, so the bound grows past where it started.
    Await.until(() -> {
      for (int i = 0; i < 10; i++) {
        learner.replyStarted(Duration.ofMillis(250));
      }
      return llmServer.peakInFlight() > 8;
    }, WAIT, "more than 8 calls at once");
    int grown = learner.llmCallsLimit();
    assertThat(grown).isGreaterThan(8).isLessThanOrEqualTo(32);
    // Live replies slow down (4 s to the first token): learning yields.
    Await.until(() -> {
      for (int i = 0; i < 10; i++) {
        learner.replyStarted(Duration.ofMillis(4_000));
      }
      return learner.llmCallsLimit() < grown;
    }, WAIT, "fewer calls allowed once replies slow down");
  }

  @Test
  void profileRefreshRequests_whenTheQueueIsFull_waitAndAreNeverDropped() {
    int users = 30;
    for (int u = 0; u < users; u++) {
      memory.save("refresh-" + u, "FACT", "I collect stamps from country number " + u, Instant.now());
    }
    llmServer.latency(Duration.ofMillis(50), Duration.ZERO);
    Llm llm = llm(0);
    // Two tasks may wait in memory: nearly every request below finds the queue full.
    // A debounce of a second: a user's second request joins the first, in memory or in the outbox.
    Learner learner = learner(fast().withProfile(Duration.ofSeconds(1), Duration.ZERO, 0.85).withConcurrency(1, 2), llm);
    for (int u = 0; u < users; u++) {
      learner.memoryChanged("refresh-" + u, "a tool wrote");
      learner.memoryChanged("refresh-" + u, "a tool wrote again"); // coalesces with the first
    }
    assertThat(learner.stats().refreshesDeferred()).isPositive();
    Await.until(() -> java.util.stream.IntStream.range(0, users).allMatch(u -> store.profile("refresh-" + u).exists()),
        WAIT, "every user's profile refreshed");
    Await.until(() -> learner.pending() == 0, WAIT, "nothing left");
    assertThat(learner.stats().profileCalls()).isEqualTo(users); // one refresh per user: the two requests coalesced
  }

  @Test
  void lagGauge_showsTheAgeOfTheOldestWaitingTurn() throws Exception {
    long tenMinutesAgo = System.currentTimeMillis() - Duration.ofMinutes(10).toMillis();
    try (var c = store.dataSource().getConnection(); var ps = c.prepareStatement("INSERT INTO agent_outbox"
        + " (kind, user_id, session_id, payload, attempts, due_at, created_at) VALUES ('TURN', 'late', NULL, ?, 0, ?, ?)")) {
      ps.setString(1, "{\"user\":\"I grow chillies on my balcony\",\"assistant\":\"Nice.\"}");
      ps.setLong(2, System.currentTimeMillis() + Duration.ofHours(1).toMillis()); // not due: it stays
      ps.setLong(3, tenMinutesAgo);
      ps.executeUpdate();
    }
    Llm llm = llm(0);
    Learner learner = learner(fast().withLagWarning(Duration.ofMinutes(1)), llm);
    var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    new dev.yaad.agent.MicrometerAgentMetrics(registry).monitor(runtime(learner, llm));
    Await.until(() -> registry.get("yaad.agent.learning.lag").gauge().value() >= 600, WAIT, "the lag of the old turn");
    assertThat(registry.get("yaad.agent.learning.lag").gauge().value()).isLessThan(700);
    assertThat(learner.drain(WAIT)).isTrue(); // learns it
    Await.until(() -> learner.lagSeconds() == 0, WAIT, "no lag once learned");
  }
}
