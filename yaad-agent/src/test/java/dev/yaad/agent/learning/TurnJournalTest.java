package dev.yaad.agent.learning;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TurnJournalTest {
  private static TurnBuffer.Turn turn(int i, String text) {
    return new TurnBuffer.Turn("u" + i, i % 2 == 0 ? "s-" + i : null, "{\"user\":\"" + text + "\"}", 1_000L + i, "k-" + i);
  }

  @Test
  void turnsLeftByAStoppedProcess_areTakenOver_inOrder_andTheirFilesGo(@TempDir Path dir) throws Exception {
    TurnJournal gone = TurnJournal.open(dir);
    List<TurnBuffer.Turn> held = List.of(turn(0, "I like tea"), turn(1, "میں چائے پیتا ہوں"), turn(2, "a \"quoted\"\nline"));
    held.forEach(gone::append);
    gone.close(); // with turns in it: the files stay, the lock goes (as when the process dies)

    TurnJournal next = TurnJournal.open(dir);
    assertThat(next.recover()).containsExactlyElementsOf(held);
    assertThat(next.bytes()).as("the taken-over turns are in the new journal until written").isPositive();
    try (var files = Files.list(dir)) {
      assertThat(files.toList()).hasSize(2); // the new process's journal and lock only
    }
    next.clear();
    next.close();
    try (var files = Files.list(dir)) {
      assertThat(files.toList()).as("an empty journal leaves nothing behind").isEmpty();
    }
  }

  @Test
  void aJournalGrownFarPastTheHeldTurns_isRewrittenWithThemOnly(@TempDir Path dir) throws Exception {
    TurnJournal journal = TurnJournal.open(dir);
    String text = "x".repeat(10_000);
    int n = (int) (TurnJournal.COMPACT_BYTES / 10_000) + 10;
    for (int i = 0; i < n; i++) {
      journal.append(turn(i, text));
    }
    TurnBuffer.Turn last = turn(n - 1, text);
    journal.written(List.of(last), last.bytes());
    assertThat(journal.bytes()).isLessThan(20_000);
    journal.close();
    try (TurnJournal next = TurnJournal.open(dir)) {
      assertThat(next.recover()).containsExactly(last);
    }
  }

  @Test
  void aLineCutShortByACrash_isSkipped(@TempDir Path dir) throws Exception {
    TurnJournal gone = TurnJournal.open(dir);
    gone.append(turn(0, "kept"));
    gone.close();
    try (var files = Files.list(dir)) {
      Path file = files.filter(f -> f.toString().endsWith(".journal")).findFirst().orElseThrow();
      Files.writeString(file, "{\"user\":\"u9\",\"sess", java.nio.file.StandardOpenOption.APPEND);
    }
    try (TurnJournal next = TurnJournal.open(dir)) {
      assertThat(next.recover()).containsExactly(turn(0, "kept"));
    }
  }
}
