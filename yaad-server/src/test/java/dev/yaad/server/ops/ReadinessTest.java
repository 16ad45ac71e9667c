package dev.yaad.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.yaad.memory.Memories;
import dev.yaad.memory.store.StoreConfig;
import dev.yaad.memory.testing.TestStores;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ReadinessTest {
  @Test
  void aCheckThatPassedBefore_failsOnlyAfterThreeFailuresInARow_andOnePassBringsItBack() {
    AtomicBoolean fine = new AtomicBoolean(true);
    Readiness readiness = new Readiness(Duration.ofSeconds(1)).add("redis", () -> {
      if (!fine.get()) {
        throw new IllegalStateException("slow");
      }
    });
    assertThat(readiness.check().ready()).isTrue();
    fine.set(false);
    assertThat(readiness.check().ready()).as("one failure: a slow moment, not an outage").isTrue();
    assertThat(readiness.check().ready()).isTrue();
    Readiness.Report down = readiness.check();
    assertThat(down.ready()).isFalse();
    assertThat(down.checks().get("redis")).isEqualTo("unreachable");
    fine.set(true);
    assertThat(readiness.check().ready()).as("one pass brings it back").isTrue();
    fine.set(false);
    assertThat(readiness.check().ready()).as("the count starts again after a pass").isTrue();
  }

  @Test
  void aCheckThatNeverPassed_failsAtOnce() {
    Readiness readiness = new Readiness(Duration.ofSeconds(1)).add("database", () -> {
      throw new IllegalStateException("refused");
    });
    assertThat(readiness.check().ready()).isFalse();
  }

  @Test
  void theDatabaseCheck_doesNotWaitOnAnExhaustedPool_andThePoolIsMetered() throws Exception {
    StoreConfig config = TestStores.postgres().withPoolSize(2);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Memories memories = Memories.builder().store(config).meterRegistry(registry).build()) {
      Readiness ownConnection = new Readiness(Duration.ofSeconds(3), 1)
          .add("database", Readiness.sql(config.jdbcUrl(), config.username(), config.password()));
      Readiness pooled = new Readiness(Duration.ofSeconds(1), 1).add("database", Readiness.sql(memories.dataSource()));
      try (Connection a = memories.dataSource().getConnection(); Connection b = memories.dataSource().getConnection()) {
        assertThat(ownConnection.check().ready()).as("its own connection: the database is fine").isTrue();
        assertThat(pooled.check().checks().get("database")).as("the pool's: waits for a connection").startsWith("timed out");
      }
      assertThat(registry.find("hikaricp.connections.acquire").timer()).as("pool wait time").isNotNull();
      assertThat(registry.find("hikaricp.connections.pending").gauge()).isNotNull();
    } finally {
      TestStores.dropSchema(config);
    }
  }
}
