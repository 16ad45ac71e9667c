package dev.yaad.memory.internal.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.yaad.memory.AddResult;
import dev.yaad.memory.Categories;
import dev.yaad.memory.ConflictException;
import dev.yaad.memory.InvalidInputException;
import dev.yaad.memory.Limits;
import dev.yaad.memory.Memories;
import dev.yaad.memory.Memory;
import dev.yaad.memory.MemoryPatch;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.NotFoundException;
import dev.yaad.memory.Page;
import dev.yaad.memory.Profile;
import dev.yaad.memory.Snapshot;
import dev.yaad.memory.TooLargeException;
import dev.yaad.memory.UserDeletedException;
import dev.yaad.memory.store.StoreConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The behaviour every store backend must show, through the front door ({@link Memories}, plain
 * adds: {@code deduplicate} off, as the REST API adds); one subclass per backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class MemoryStoreContract {
  static final String URDU = "میرا نام عائشہ ہے اور مجھے چائے پسند ہے";
  static final String MIXED = "I love 🍵 chai \u200F(چائے)\u200E — naïve café 👩🏽‍💻";

  Memories store;
  private final Set<String> usedIds = new HashSet<>();

  abstract StoreConfig config();

  abstract void cleanUp();

  @BeforeAll
  void open() {
    store = Memories.builder().store(config()).build();
  }

  @AfterAll
  void close() {
    if (store != null) {
      store.close();
    }
    cleanUp();
  }

  Memory add(String user, NewMemory memory) {
    return store.addAll(user, List.of(memory), false).getFirst().memory();
  }

  List<Memory> addAll(String user, List<NewMemory> memories) {
    return store.addAll(user, memories, false).stream().map(AddResult::memory).toList();
  }

  String user() {
    String id = "u-" + UUID.randomUUID();
    usedIds.add(id);
    return id;
  }

  @Test
  void add_thenGet_roundTripsEveryField() {
    String user = user();
    Instant when = Instant.parse("2023-05-08T13:56:00Z");
    Memory added = add(user, new NewMemory("fact", URDU, "{\"source\":\"call\",\"n\":1.10,\"tags\":[\"a\",null]}", when));

    assertThat(added.category()).isEqualTo("FACT");
    assertThat(added.userId()).isEqualTo(user);
    assertThat(added.createdAt()).isEqualTo(added.updatedAt());
    Memory read = store.get(user, added.id());
    assertThat(read).isEqualTo(added);
    assertThat(read.content()).isEqualTo(URDU);
    assertThat(read.metadata()).isEqualTo("{\"source\":\"call\",\"n\":1.10,\"tags\":[\"a\",null]}");
    assertThat(read.occurredAt()).isEqualTo(when);
  }

  @Test
  void unicode_roundTripsByteExact() {
    String user = user();
    Memory added = add(user, NewMemory.of("PREFERENCE", MIXED));
    assertThat(store.get(user, added.id()).content().getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(MIXED.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Memory meta = add(user, new NewMemory("FACT", "x", "{\"نام\":\"عائشہ 🌙\"}", null));
    assertThat(store.get(user, meta.id()).metadata()).isEqualTo("{\"نام\":\"عائشہ 🌙\"}");
  }

  @Test
  void add_rejectsBadInput_andWritesNothing() {
    String user = user();
    assertThatThrownBy(() -> add(user, NewMemory.of("HOBBY", "x")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("unknown category 'HOBBY'");
    assertThatThrownBy(() -> add(user, NewMemory.of("FACT", "  ")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("content must not be empty");
    assertThatThrownBy(() -> add(user, NewMemory.of("FACT", "é".repeat(Limits.MAX_CONTENT_BYTES / 2 + 1))))
        .isInstanceOf(TooLargeException.class).hasMessageContaining("limit is 8192");
    assertThatThrownBy(() -> add(user, new NewMemory("FACT", "x", "[1,2]", null)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("must be a JSON object");
    assertThatThrownBy(() -> add(user, new NewMemory("FACT", "x", "{not json", null)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> add(user, new NewMemory("FACT", "x", "{\"a\":\"" + "b".repeat(5000) + "\"}", null)))
        .isInstanceOf(TooLargeException.class).hasMessageContaining("limit is 4096");
    assertThatThrownBy(() -> add("bad user/id", NewMemory.of("FACT", "x")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("malformed user id");
    assertThatThrownBy(() -> add(user, NewMemory.of("FACT", "a\0b")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("NUL");
    // nothing was written: the user does not even exist
    assertThatThrownBy(() -> store.profile(user)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void loneSurrogates_areRejected_andNothingIsWritten() {
    String user = user();
    String lone = "chai \uD83C tea"; // the first half of an emoji alone: not text, and no UTF-8 form
    assertThatThrownBy(() -> add(user, NewMemory.of("FACT", lone)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("content contains a lone UTF-16 surrogate (U+D83C)");
    assertThatThrownBy(() -> add(user, NewMemory.of("FACT", "ends badly \uDF75")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("U+DF75");
    assertThatThrownBy(() -> add(user, new NewMemory("FACT", "x", "{\"k\":\"\uDC00\"}", null)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("metadata contains a lone UTF-16 surrogate");
    assertThatThrownBy(() -> store.putProfile(user, "profile \uD800", null))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("profile content contains a lone UTF-16 surrogate");
    assertThatThrownBy(() -> store.profile(user)).isInstanceOf(NotFoundException.class);
    Memory m = add(user, NewMemory.of("FACT", "a whole emoji \uD83C\uDF75 is fine"));
    assertThat(store.get(user, m.id()).content()).isEqualTo("a whole emoji 🍵 is fine");
    assertThatThrownBy(() -> store.update(user, m.id(), new MemoryPatch(null, "half \uD83C", null, null)))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("lone UTF-16 surrogate");
    assertThat(store.get(user, m.id()).content()).isEqualTo("a whole emoji 🍵 is fine");
  }

  @Test
  void categories_foldOnlyAsciiCase() {
    String user = user();
    assertThat(add(user, NewMemory.of("interest", "x")).category()).isEqualTo("INTEREST");
    // A dotless i upper-cases to I in every locale, yet "ınterest" is not the category INTEREST.
    assertThatThrownBy(() -> add(user, NewMemory.of("\u0131nterest", "x")))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("unknown category '\u0131nterest'");
    assertThatThrownBy(() -> store.list(user, "intere\u017Ft", 10, null)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> Categories.of(List.of("FACT", "\u0131NTEREST"))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void content_atExactlyTheLimit_isAccepted() {
    String user = user();
    String content = "é".repeat(Limits.MAX_CONTENT_BYTES / 2);
    assertThat(add(user, NewMemory.of("FACT", content)).content()).isEqualTo(content);
  }

  @Test
  void addAll_isAllOrNothing() {
    String user = user();
    add(user, NewMemory.of("FACT", "existing"));
    List<NewMemory> batch = List.of(NewMemory.of("FACT", "one"), NewMemory.of("GOAL", "two"), NewMemory.of("NOPE", "three"));
    assertThatThrownBy(() -> addAll(user, batch))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("memories[2].").hasMessageContaining("NOPE");
    assertThat(store.list(user, null, 100, null).items()).extracting(Memory::content).containsExactly("existing");

    List<Memory> added = addAll(user, List.of(NewMemory.of("FACT", "one"), NewMemory.of("GOAL", "two")));
    assertThat(added).extracting(Memory::content).containsExactly("one", "two");
    assertThat(store.list(user, null, 100, null).items()).hasSize(3);
  }

  @Test
  void addAll_rollsBackWhenTheDatabaseRejectsARow() {
    String user = user();
    add(user, NewMemory.of("FACT", "existing"));
    // Passes validation but not the H2 column width or PostgreSQL's text encoding: a lone surrogate.
    List<NewMemory> batch = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      batch.add(NewMemory.of("FACT", "fine " + i));
    }
    batch.add(NewMemory.of("FACT", "\uD800"));
    try {
      addAll(user, batch);
    } catch (RuntimeException expected) {
      // either backend may refuse it; if it does, nothing of the batch may remain
      assertThat(store.list(user, null, 100, null).items()).extracting(Memory::content).containsExactly("existing");
      return;
    }
    assertThat(store.list(user, null, 100, null).items()).hasSize(7);
  }

  @Test
  void addAll_rejectsEmptyAndOversizedBatches() {
    String user = user();
    assertThatThrownBy(() -> addAll(user, List.of())).isInstanceOf(InvalidInputException.class);
    List<NewMemory> tooMany = IntStream.range(0, Limits.MAX_BATCH_SIZE + 1).mapToObj(i -> NewMemory.of("FACT", "m" + i)).toList();
    assertThatThrownBy(() -> addAll(user, tooMany)).isInstanceOf(TooLargeException.class).hasMessageContaining("1000");
  }

  @Test
  void list_isNewestFirst_pagedByCursor_andFilteredByCategory() {
    String user = user();
    for (int i = 0; i < 25; i++) {
      add(user, NewMemory.of(i % 2 == 0 ? "FACT" : "GOAL", "m" + i));
    }
    List<String> seen = new ArrayList<>();
    String cursor = null;
    do {
      Page<Memory> page = store.list(user, null, 10, cursor);
      page.items().forEach(m -> seen.add(m.content()));
      cursor = page.nextCursor();
    } while (cursor != null);
    assertThat(seen).hasSize(25).first().isEqualTo("m24");
    assertThat(seen).last().isEqualTo("m0");
    assertThat(seen).doesNotHaveDuplicates();

    Page<Memory> goals = store.list(user, "goal", 100, null);
    assertThat(goals.items()).hasSize(12).allMatch(m -> m.category().equals("GOAL"));
    assertThat(goals.nextCursor()).isNull();
  }

  @Test
  void list_rejectsBadArguments() {
    String user = user();
    add(user, NewMemory.of("FACT", "x"));
    assertThatThrownBy(() -> store.list(user, null, 0, null)).hasMessageContaining("limit must be between 1 and 100");
    assertThatThrownBy(() -> store.list(user, null, 101, null)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> store.list(user, null, 10, "garbage!")).hasMessageContaining("malformed cursor");
    assertThatThrownBy(() -> store.list(user, "NOPE", 10, null)).hasMessageContaining("unknown category");
    assertThatThrownBy(() -> store.list(user(), null, 10, null)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void update_changesOnlyGivenFields() {
    String user = user();
    Memory m = add(user, new NewMemory("PLAN", "visit Lahore", "{\"a\":1}", null));
    Memory u = store.update(user, m.id(), new MemoryPatch(null, "visit Lahore in June", null, null));
    assertThat(u.content()).isEqualTo("visit Lahore in June");
    assertThat(u.category()).isEqualTo("PLAN");
    assertThat(u.metadata()).isEqualTo("{\"a\":1}");
    assertThat(u.createdAt()).isEqualTo(m.createdAt());
    assertThat(u.updatedAt()).isAfter(m.updatedAt());
    assertThat(store.get(user, m.id())).isEqualTo(u);

    Memory moved = store.update(user, m.id(), new MemoryPatch("goal", null, "{\"b\":2}", Instant.parse("2024-06-01T00:00:00Z")));
    assertThat(moved.category()).isEqualTo("GOAL");
    assertThat(store.get(user, m.id())).isEqualTo(moved);

    assertThatThrownBy(() -> store.update(user, m.id(), new MemoryPatch(null, null, null, null)))
        .isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> store.update(user, m.id(), new MemoryPatch("NOPE", null, null, null)))
        .isInstanceOf(InvalidInputException.class);
    assertThat(store.get(user, m.id())).isEqualTo(moved);
    assertThatThrownBy(() -> store.update(user, UUID.randomUUID(), new MemoryPatch(null, "x", null, null)))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void delete_removesOneMemory() {
    String user = user();
    Memory a = add(user, NewMemory.of("FACT", "a"));
    Memory b = add(user, NewMemory.of("FACT", "b"));
    store.delete(user, a.id());
    assertThatThrownBy(() -> store.get(user, a.id())).isInstanceOf(NotFoundException.class);
    assertThat(store.get(user, b.id())).isEqualTo(b);
    assertThatThrownBy(() -> store.delete(user, a.id())).isInstanceOf(NotFoundException.class);
  }

  @Test
  void usersAreIsolated() {
    String alice = user();
    String bob = user();
    Memory secret = add(alice, NewMemory.of("FACT", "alice's secret"));
    add(bob, NewMemory.of("FACT", "bob's"));
    store.putProfile(bob, "Bob", null);

    assertThatThrownBy(() -> store.get(bob, secret.id())).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.update(bob, secret.id(), new MemoryPatch(null, "stolen", null, null)))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.delete(bob, secret.id())).isInstanceOf(NotFoundException.class);
    assertThat(store.list(bob, null, 100, null).items()).extracting(Memory::content).containsExactly("bob's");
    assertThat(store.snapshot(bob, List.of(), 5).memories().get("FACT")).extracting(Memory::content).containsExactly("bob's");

    store.deleteUser(bob);
    assertThat(store.get(alice, secret.id())).isEqualTo(secret);
    assertThatThrownBy(() -> store.profile(bob)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.list(bob, null, 10, null)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.deleteUser(bob)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void deleteUser_removesMemoriesAndProfile_andTheUserCanStartAgain() {
    String user = user();
    Memory m = add(user, NewMemory.of("FACT", "x"));
    store.putProfile(user, "likes chai", null);
    store.deleteUser(user);
    assertThatThrownBy(() -> store.get(user, m.id())).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.snapshot(user, List.of(), 5)).isInstanceOf(NotFoundException.class);

    add(user, NewMemory.of("FACT", "fresh start"));
    assertThat(store.profile(user).exists()).isFalse();
    assertThat(store.list(user, null, 10, null).items()).hasSize(1);
  }

  /**
   * The catalog, not a list kept by hand: every table of the schema with a column naming a user
   * must be one that {@code deleteUser} empties of the user ({@link JdbcMemoryStore#USER_TABLES}),
   * the users table itself, or the tombstones. Then two users with rows in every such table; one
   * is deleted; every table's rows are counted before and after, for both users.
   */
  @Test
  void deleteUser_removesTheUsersRowsFromEveryTableOfTheSchema_andNoOneElses() throws Exception {
    Map<String, String> userColumns = new TreeMap<>(); // table -> its column naming a user
    List<String> tables = new ArrayList<>();
    names.clear();
    try (Connection c = store.dataSource().getConnection()) {
      String schema = c.getSchema();
      try (PreparedStatement ps = c.prepareStatement("SELECT table_name FROM information_schema.tables"
          + " WHERE table_schema = ? AND table_type IN ('BASE TABLE', 'TABLE')")) {
        ps.setString(1, schema);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            tables.add(rs.getString(1).toLowerCase(Locale.ROOT));
            names.put(rs.getString(1).toLowerCase(Locale.ROOT), rs.getString(1));
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT table_name, column_name FROM information_schema.columns"
          + " WHERE table_schema = ? AND LOWER(column_name) LIKE '%user%'")) {
        ps.setString(1, schema);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            userColumns.put(rs.getString(1).toLowerCase(Locale.ROOT), rs.getString(2));
          }
        }
      }
    }
    userColumns.put("users", names.get("users").equals("users") ? "id" : "ID");
    assertThat(tables).contains("users", "memories", "profiles", "agent_outbox", "deleted_users");
    Set<String> covered = new HashSet<>(JdbcMemoryStore.USER_TABLES);
    covered.add("users");
    covered.add("deleted_users"); // the tombstone: the id and the time, written by the deletion
    assertThat(covered).as("tables with a user column that deleteUser does not empty").containsAll(userColumns.keySet());

    String gone = user();
    String kept = user();
    for (String u : List.of(gone, kept)) {
      addAll(u, List.of(NewMemory.of("FACT", "has a goldfish named Bubbles"), NewMemory.of("GOAL", "run a marathon")));
      store.putProfile(u, "Keeps a goldfish.", null);
      try (Connection c = store.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
          "INSERT INTO agent_outbox (kind, user_id, session_id, payload, attempts, due_at, created_at) VALUES ('TURN', ?, 's', ?, 0, 0, 0)")) {
        ps.setString(1, u);
        ps.setString(2, "{\"user\":\"my goldfish is called Bubbles\"}");
        ps.executeUpdate();
      }
    }
    Map<String, Long> totalBefore = counts(tables, null, null);
    Map<String, Long> goneBefore = counts(userColumns.keySet(), userColumns, gone);
    Map<String, Long> keptBefore = counts(userColumns.keySet(), userColumns, kept);
    assertThat(goneBefore).containsEntry("memories", 2L).containsEntry("profiles", 1L).containsEntry("agent_outbox", 1L)
        .containsEntry("users", 1L).containsEntry("deleted_users", 0L);

    store.deleteUser(gone);

    Map<String, Long> goneAfter = counts(userColumns.keySet(), userColumns, gone);
    Map<String, Long> expectedGone = new TreeMap<>();
    userColumns.keySet().forEach(t -> expectedGone.put(t, t.equals("deleted_users") ? 1L : 0L));
    assertThat(goneAfter).as("the deleted user's rows, per table").isEqualTo(expectedGone);
    assertThat(counts(userColumns.keySet(), userColumns, kept)).as("the other user's rows").isEqualTo(keptBefore);
    Map<String, Long> totalAfter = counts(tables, null, null);
    for (String t : tables) {
      long expected = totalBefore.get(t) - goneBefore.getOrDefault(t, 0L) + (t.equals("deleted_users") ? 1 : 0);
      assertThat(totalAfter.get(t)).as("rows in " + t).isEqualTo(expected);
    }
  }

  @Test
  void deleteUser_ofAUserWithOnlyTurnsWaiting_deletesThem_andOfNobody_is404ButStillATombstone() throws Exception {
    String waiting = user();
    try (Connection c = store.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO agent_outbox (kind, user_id, session_id, payload, attempts, due_at, created_at) VALUES ('TURN', ?, 's', '{}', 0, 0, 0)")) {
      ps.setString(1, waiting);
      ps.executeUpdate();
    }
    store.deleteUser(waiting); // not a 404: their words were waiting to be learned
    try (Connection c = store.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM agent_outbox WHERE user_id = ?")) {
      ps.setString(1, waiting);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
    }

    String nobody = user();
    Instant begun = Instant.now().minusSeconds(1);
    assertThatThrownBy(() -> store.deleteUser(nobody)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.add(nobody, NewMemory.of("FACT", "said before the deletion"), begun))
        .isInstanceOf(UserDeletedException.class);
  }

  @Test
  void writesOfWorkBegunBeforeADeletion_areRefused_whileLaterWorkMakesANewUser() {
    String user = user();
    Instant sessionOpened = Instant.now();
    store.add(user, NewMemory.of("FACT", "has a goldfish named Bubbles"), sessionOpened); // not deleted: allowed
    store.deleteUser(user);

    assertThatThrownBy(() -> store.add(user, NewMemory.of("FACT", "plays chess every Sunday"), sessionOpened))
        .isInstanceOf(UserDeletedException.class).hasMessageContaining("nothing was written");
    assertThatThrownBy(() -> store.putProfile(user, "Plays chess.", null, sessionOpened)).isInstanceOf(UserDeletedException.class);
    assertThatThrownBy(() -> store.profile(user)).as("not created again").isInstanceOf(NotFoundException.class);

    Instant later = Instant.now().plusSeconds(1); // a session opened after the deletion
    store.add(user, NewMemory.of("FACT", "likes tea"), later);
    add(user, NewMemory.of("FACT", "a new memory over REST")); // unguarded: new work, a new user
    assertThat(store.list(user, null, 10, null).items()).extracting(Memory::content)
        .containsExactlyInAnyOrder("likes tea", "a new memory over REST");
  }

  /** Lower-case table name -> its name in the catalog (H2 keeps Flyway's table lower case, ours upper). */
  private final Map<String, String> names = new java.util.HashMap<>();

  /** Rows per table: all of them ({@code user == null}), or the user's, by the table's user column. */
  private Map<String, Long> counts(java.util.Collection<String> tables, Map<String, String> userColumns, String user)
      throws Exception {
    Map<String, Long> out = new TreeMap<>();
    try (Connection c = store.dataSource().getConnection()) {
      for (String t : tables) {
        String sql = "SELECT COUNT(*) FROM \"" + names.getOrDefault(t, t) + "\""
            + (user == null ? "" : " WHERE \"" + userColumns.get(t) + "\" = ?");
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          if (user != null) {
            ps.setString(1, user);
          }
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            out.put(t, rs.getLong(1));
          }
        }
      }
    }
    return out;
  }

  @Test
  void profile_versionsAndOptimisticConcurrency() {
    String user = user();
    add(user, NewMemory.of("FACT", "x"));
    assertThat(store.profile(user)).isEqualTo(Profile.none(user));

    Profile v1 = store.putProfile(user, "Aisha, a teacher in Lahore", 0L);
    assertThat(v1.version()).isEqualTo(1);
    assertThat(store.profile(user)).isEqualTo(v1);
    Profile v2 = store.putProfile(user, "Aisha, a teacher in Lahore who loves chai", null);
    assertThat(v2.version()).isEqualTo(2);
    assertThatThrownBy(() -> store.putProfile(user, "stale", 1L))
        .isInstanceOf(ConflictException.class).hasMessageContaining("version 2");
    assertThat(store.profile(user)).isEqualTo(v2);
    assertThatThrownBy(() -> store.putProfile(user, "", null)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> store.profile(user())).isInstanceOf(NotFoundException.class);
  }

  @Test
  void snapshot_returnsProfileAndNewestPerCategory_inRequestedOrder() {
    String user = user();
    List<NewMemory> batch = new ArrayList<>();
    for (String category : Categories.DEFAULT_NAMES) {
      for (int i = 0; i < 7; i++) {
        batch.add(NewMemory.of(category, category + "-" + i));
      }
    }
    addAll(user, batch);
    store.putProfile(user, "profile text", null);

    Snapshot all = store.snapshot(user, List.of(), 5);
    assertThat(all.profile().content()).isEqualTo("profile text");
    assertThat(all.memories().keySet()).containsExactlyElementsOf(Categories.DEFAULT_NAMES);
    assertThat(all.memoryCount()).isEqualTo(40);
    assertThat(all.memories().get("GOAL")).extracting(Memory::content)
        .containsExactly("GOAL-6", "GOAL-5", "GOAL-4", "GOAL-3", "GOAL-2");

    Snapshot two = store.snapshot(user, List.of("plan", "FACT", "PLAN"), 2);
    assertThat(two.memories().keySet()).containsExactly("PLAN", "FACT");
    assertThat(two.memories().get("FACT")).extracting(Memory::content).containsExactly("FACT-6", "FACT-5");
  }

  @Test
  void snapshot_ofUserWithoutProfileOrMemoriesInACategory() {
    String user = user();
    add(user, NewMemory.of("GOAL", "learn to swim"));
    Snapshot s = store.snapshot(user, List.of("GOAL", "FACT"), 5);
    assertThat(s.profile().exists()).isFalse();
    assertThat(s.memories().get("FACT")).isEmpty();
    assertThat(s.memories().get("GOAL")).hasSize(1);
    assertThatThrownBy(() -> store.snapshot(user, List.of("NOPE"), 5)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> store.snapshot(user, List.of(), 0)).hasMessageContaining("perCategory");
    assertThatThrownBy(() -> store.snapshot(user, List.of(), 51)).hasMessageContaining("perCategory");
    assertThatThrownBy(() -> store.snapshot(user(), List.of(), 5)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void parallelWritersForOneUser_loseNothing() throws Exception {
    String user = user();
    int threads = 8;
    int perThread = 40;
    List<UUID> ids = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<List<UUID>>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(pool.submit(() -> {
          List<UUID> mine = new ArrayList<>();
          for (int i = 0; i < perThread; i++) {
            if (i % 10 == 9) {
              store.putProfile(user, "profile from " + thread + "/" + i, null);
            }
            mine.add(add(user, NewMemory.of(i % 2 == 0 ? "FACT" : "GOAL", "t" + thread + "-" + i)).id());
          }
          return mine;
        }));
      }
      for (Future<List<UUID>> f : futures) {
        ids.addAll(f.get());
      }
    }
    assertThat(ids).hasSize(threads * perThread).doesNotHaveDuplicates();
    Set<UUID> stored = new HashSet<>();
    String cursor = null;
    do {
      Page<Memory> page = store.list(user, null, 100, cursor);
      page.items().forEach(m -> stored.add(m.id()));
      cursor = page.nextCursor();
    } while (cursor != null);
    assertThat(stored).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(store.profile(user).version()).isEqualTo(threads * (perThread / 10));
  }

  @Test
  void malformedIds_areRejected() {
    assertThatThrownBy(() -> Memory.parseId("not-a-uuid")).isInstanceOf(InvalidInputException.class).hasMessageContaining("malformed memory id");
    assertThatThrownBy(() -> Memory.parseId("1-1-1-1-1")).isInstanceOf(InvalidInputException.class);
    UUID id = Ids.next(System.currentTimeMillis());
    assertThat(id.version()).isEqualTo(7);
    assertThat(Memory.parseId(id.toString())).isEqualTo(id);
  }

  @Test
  void configuredCategories_areEnforced() {
    StoreConfig custom = config().withCategories(Categories.of(List.of("fact", "mood")));
    try (Memories other = Memories.builder().store(custom).build()) {
      String user = user();
      assertThat(other.add(user, NewMemory.of("Mood", "cheerful")).memory().category()).isEqualTo("MOOD");
      assertThatThrownBy(() -> other.add(user, NewMemory.of("GOAL", "x"))).hasMessageContaining("[FACT, MOOD]");
      assertThat(other.snapshot(user, List.of(), 5).memories().keySet()).containsExactly("FACT", "MOOD");
    }
  }
}
