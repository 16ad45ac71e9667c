package dev.yaad.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Memories;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.internal.store.EmbeddedMemory;
import dev.yaad.memory.internal.store.JdbcMemoryStore;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code yaad users export}, then {@code yaad users import --exact}, is a faithful backup: the
 * user comes back with the same memory ids, times, metadata and profile version, byte for byte
 * in a second export, with vectors for search; on H2 and on PostgreSQL.
 */
class ExactRestoreTest {

  @Test
  void exportThenExactImport_isAFaithfulBackup_onH2(@TempDir Path dir) throws Exception {
    roundTrip("jdbc:h2:file:" + dir.resolve("yaad"), TestStores.h2(dir), dir);
  }

  @Test
  void exportThenExactImport_isAFaithfulBackup_onPostgres(@TempDir Path dir) throws Exception {
    StoreConfig config = TestStores.postgres();
    try {
      roundTrip(config.jdbcUrl() + "?currentSchema=" + config.schema() + "&user=" + config.username(), config, dir);
    } finally {
      TestStores.dropSchema(config);
    }
  }

  private static void roundTrip(String url, StoreConfig config, Path dir) throws Exception {
    try (Memories memories = Memories.builder().store(config).build()) {
      memories.addAll("ali", List.of(
          new NewMemory("FACT", "میرا نام علی ہے", "{\"source\":\"call\",\"confidence\":0.90}", null),
          new NewMemory("PLAN", "Visiting Lahore", null, Instant.parse("2026-12-20T05:00:00Z"))), false);
      memories.putProfile("ali", "Ali, 34.", null);
      memories.putProfile("ali", "Ali, 34, lives in Lahore.", 1L);
    }
    Map<String, String> env = Map.of("YAAD_DB_URL", url);
    Path backup = dir.resolve("ali.jsonl");
    assertThat(MainTest.run(env, "users", "export", "ali", "--out", backup.toString()).exitCode()).isZero();

    // Into an existing user an exact restore would mix two histories: refused, nothing changed.
    MainTest.Run refused = MainTest.run(env, "users", "import", "--exact", backup.toString());
    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.err()).contains("already exists", "delete it first");

    assertThat(MainTest.run(env, "users", "delete", "ali").exitCode()).isZero();
    MainTest.Run restored = MainTest.run(env, "users", "import", "--exact", backup.toString());
    assertThat(restored.exitCode()).as(restored.err()).isZero();
    assertThat(restored.out()).contains("restored user 'ali' exactly: 2 memories and the profile (version 2)");

    MainTest.Run again = MainTest.run(env, "users", "export", "ali");
    assertThat(again.out()).isEqualTo(Files.readString(backup));
    try (JdbcMemoryStore store = JdbcMemoryStore.open(config)) { // the vectors, which no public type shows
      assertThat(store.embeddedMemories("ali")).extracting(EmbeddedMemory::embedding).doesNotContainNull();
    }
  }

  @Test
  void exactImport_ofALineWithoutItsId_namesTheLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("hand.jsonl");
    Files.writeString(file, "{\"type\":\"memory\",\"userId\":\"sana\",\"category\":\"FACT\",\"content\":\"Likes tea\"}\n");
    MainTest.Run run = MainTest.run(Map.of("YAAD_DB_URL", "jdbc:h2:file:" + dir.resolve("yaad")), "users", "import", "--exact",
        file.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("line 1", "id, createdAt and updatedAt");
  }
}
