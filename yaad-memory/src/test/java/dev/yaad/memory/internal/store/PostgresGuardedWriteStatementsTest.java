package dev.yaad.memory.internal.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Memory;
import dev.yaad.memory.NewMemory;
import dev.yaad.memory.Categories;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.Services;
import dev.yaad.memory.testing.TestStores;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The statements a de-duplicating write sends to PostgreSQL: each one is a round trip, and on a
 * busy machine each waits for the database's and then the caller's turn on a core, while the
 * user's lock is held.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresGuardedWriteStatementsTest {
  private final StoreConfig config = TestStores.postgres();
  private final List<String> statements = new CopyOnWriteArrayList<>();
  private JdbcMemoryStore store;

  @BeforeAll
  void open() throws Exception {
    try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.username(), config.password());
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + config.schema());
    }
    PGSimpleDataSource database = new PGSimpleDataSource();
    database.setUrl(Services.postgresUrl());
    database.setUser(config.username());
    database.setCurrentSchema(config.schema());
    DataSource counting = (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
          Object result = invoke(database, method, args);
          return result instanceof Connection c ? counting(c) : result;
        });
    store = JdbcMemoryStore.open(counting, Categories.DEFAULT);
  }

  private Connection counting(Connection connection) {
    return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
        (proxy, method, args) -> {
          if (method.getName().equals("prepareStatement")) {
            statements.add((String) args[0]);
          }
          return invoke(connection, method, args);
        });
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @AfterAll
  void close() {
    if (store != null) {
      store.close();
    }
    TestStores.dropSchema(config);
  }

  @Test
  void aGuardedWriteToAUserWithMemories_locks_readsStateAndTombstoneAtOnce_andInserts() {
    String user = "u-statements";
    Instant begun = Instant.now().minusSeconds(1);
    Memory first = store.write(user, List.of(new MemoryWrite.Insert(NewMemory.of("FACT", "has a goldfish"), null)),
        new UserState(0, null), begun).getFirst();
    assertThat(statements).as("a new user's first write creates them").anySatisfy(s -> assertThat(s).contains("INSERT INTO users"));

    statements.clear();
    store.write(user, List.of(new MemoryWrite.Insert(NewMemory.of("FACT", "plays chess on Sundays"), null)),
        new UserState(1, first.updatedAt()), begun);

    assertThat(statements).hasSize(3);
    assertThat(statements.get(0)).contains("pg_advisory_xact_lock");
    assertThat(statements.get(1)).contains("COUNT(*)").contains("deleted_users");
    assertThat(statements.get(2)).startsWith("INSERT INTO memories");
    assertThat(store.list(user, null, 10, null).items()).extracting(Memory::content)
        .containsExactlyInAnyOrder("has a goldfish", "plays chess on Sundays");
  }
}
