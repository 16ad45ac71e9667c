package dev.yaad.agent.learning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.agent.llm.Llm;
import dev.yaad.agent.llm.LlmConfig;
import dev.yaad.agent.memory.MemoriesAccess;
import dev.yaad.memory.Memories;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Await;
import dev.yaad.memory.testing.Services;
import dev.yaad.testing.PostgresProcess;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An accepted turn survives a crash of the process: a learner in a child JVM takes turns while
 * its PostgreSQL (the test's own) is stopped, so they are held in memory, and is killed with
 * SIGKILL; once the database is back, a learner started on the same journal directory writes
 * every one of them to the outbox.
 */
class TurnJournalCrashTest {
  private static final int TURNS = 40;
  private static PostgresProcess postgres;

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = Services.ownPostgres();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  @BeforeEach
  void clean() throws Exception {
    try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), "postgres", null); Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS public CASCADE");
      s.execute("CREATE SCHEMA public");
    }
  }

  @Test
  void killedWhileTheDatabaseIsDown_theHeldTurnsReachTheOutboxAfterRestart(@TempDir Path journal) throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Child.class.getName(),
        postgres.jdbcUrl(), journal.toString(), Integer.toString(TURNS)).redirectErrorStream(true).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter in = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8)) {
      awaitLine(out, "started");
      postgres.stop();
      in.println("go"); // the turns come while the database is down
      assertThat(awaitLine(out, "accepted")).isEqualTo("accepted " + TURNS + " held " + TURNS);
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no close
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    postgres.startAgain();
    assertThat(turnRows()).as("outbox rows before the restart").isZero();

    try (Memories store = Memories.builder().store(StoreConfig.of(postgres.jdbcUrl()).withCredentials("postgres", null)).build();
        Llm llm = Llm.openAiCompatible(LlmConfig.of("http://127.0.0.1:9/v1", null, "unused"));
        Learner learner = Child.learner(store, llm, journal)) {
      Await.until(() -> turnRows() == TURNS, Duration.ofSeconds(60), "the crashed process's turns in the outbox");
      assertThat(learner.droppedTurns()).isZero();
    }
    try (var files = Files.list(journal)) {
      assertThat(files.toList()).as("journals left after a clean stop").isEmpty();
    }
  }

  @Test
  void aJournalOfALiveProcess_isNotTakenOver(@TempDir Path journal) throws Exception {
    try (Memories store = Memories.builder().store(StoreConfig.of(postgres.jdbcUrl()).withCredentials("postgres", null)).build();
        Llm llm = Llm.openAiCompatible(LlmConfig.of("http://127.0.0.1:9/v1", null, "unused"))) {
      Learner first = Child.learner(store, llm, journal);
      postgres.stop();
      try {
        assertThat(first.turnCompleted("alive", "s-1", "I like tea", "Nice.")).isTrue();
        assertThat(first.heldTurns()).isOne();
        try (TurnJournal second = TurnJournal.open(journal)) {
          assertThat(second.recover()).as("the first learner's held turn stays its own").isEmpty();
        }
      } finally {
        postgres.startAgain();
      }
      Await.until(() -> first.heldTurns() == 0, Duration.ofSeconds(60), "the first learner writes its own turn");
      first.close();
    }
  }

  private static String awaitLine(BufferedReader out, String prefix) throws Exception {
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith(prefix)) {
        return line;
      }
    }
    throw new AssertionError("the child ended before printing '" + prefix + "'");
  }

  private static long turnRows() {
    try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), "postgres", null); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM agent_outbox WHERE kind = 'TURN'")) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      return -1;
    }
  }

  /** The process that crashes: a learner on PostgreSQL with a journal, taking turns when told. */
  public static final class Child {
    static Learner learner(Memories store, Llm llm, Path journal) {
      return Learner.builder().dataSource(store.dataSource()).memory(new MemoriesAccess(store)).llm(llm)
          .config(LearningConfig.defaults().withBatch(50, Duration.ofHours(1)).withTurnJournal(journal)).build();
    }

    public static void main(String[] args) throws Exception {
      Memories store = Memories.builder().store(StoreConfig.of(args[0]).withCredentials("postgres", null).withPoolSize(2)).build();
      Llm llm = Llm.openAiCompatible(LlmConfig.of("http://127.0.0.1:9/v1", null, "unused"));
      Learner learner = learner(store, llm, Path.of(args[1]));
      System.out.println("started");
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      int turns = Integer.parseInt(args[2]);
      int accepted = 0;
      for (int i = 0; i < turns; i++) {
        accepted += learner.turnCompleted("crash-" + (i % 4), "s-" + (i % 4), "I planted tree number " + i, "Lovely.") ? 1 : 0;
      }
      Thread.sleep(300); // the writer has tried (and failed) at least once
      System.out.println("accepted " + accepted + " held " + learner.heldTurns());
      Thread.sleep(60_000); // until killed
    }
  }
}
