package dev.yaad.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.yaad.memory.testing.Await;
import dev.yaad.memory.testing.Services;
import dev.yaad.server.http.ExpectedLog;
import dev.yaad.testing.RedisProcess;
import io.lettuce.core.RedisChannelHandler;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Redis failing under the event bus, on a Redis of the test's own (never the shared one). */
class ClusterEventsFaultTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  RedisProcess redis;
  ClusterEvents events;

  @BeforeEach
  void start() throws Exception {
    redis = Services.ownRedis();
    events = ClusterEvents.redis(redis.url(), redis.url(), "yaad-test:");
    assertThat(events.awaitConnected(WAIT)).isTrue();
  }

  @AfterEach
  void stop() throws Exception {
    if (redis != null) {
      redis.resume(); // if a test left it stopped
    }
    if (events != null) {
      events.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void close_closesEachConnectionOnce_withoutLettuceWarning() {
    try (ExpectedLog lettuce = ExpectedLog.of(RedisChannelHandler.class)) {
      events.close();
      events = null;
      assertThat(lettuce.events()).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
          .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }
  }

  @Test
  void publishesFailingTogetherThroughOneStall_doNotMarkRedisDown() throws Exception {
    // A starved CPU or a short pause of Redis: the publishes in flight time out together (after
    // 1 s), and that is one failure, not a reason to drop the subscription and miss events.
    redis.hang();
    try {
      for (int i = 0; i < 2 * ClusterEvents.FAILURES_BEFORE_DOWN; i++) {
        events.publish(new ClusterEvents.UserDeleted("user-" + i));
      }
      Thread.sleep(1500); // past the publishes' 1 s timeout
    } finally {
      redis.resume();
    }
    Thread.sleep(2 * ClusterEvents.CHECK_INTERVAL.toMillis()); // pings that succeed end the run of failures
    assertThat(events.timesDown()).isZero();
    assertThat(events.connected()).isTrue();
  }

  @Test
  void aHungRedis_isDownAfterFailuresInARow_andBackOnceItAnswers() throws Exception {
    redis.hang();
    try {
      Await.until(() -> !events.connected(), WAIT, "down while Redis does not answer");
    } finally {
      redis.resume();
    }
    Await.until(events::connected, WAIT, "back once Redis answers");
    assertThat(events.timesDown()).isEqualTo(1);
  }

  @Test
  void ping_waitsOutAStallShorterThanItsTimeout_forReadiness() throws Exception {
    // What a starved CPU does to the cache's 100 ms commands: Redis answers, late. Readiness asks here.
    redis.hang();
    var resume = CompletableFuture.runAsync(() -> {
      try {
        Thread.sleep(400);
        redis.resume();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    events.ping(); // answered after the 400 ms stall, within the bus's 1 s
    resume.join();
    assertThat(events.connected()).isTrue();
  }

  @Test
  void ping_fails_whileRedisIsGone() throws Exception {
    redis.kill();
    Await.until(() -> !events.connected(), Duration.ofSeconds(5), "down when the connection drops");
    assertThatThrownBy(events::ping).isInstanceOf(RuntimeException.class);
    redis.restart();
    Await.until(events::connected, WAIT, "back once Redis is");
    events.ping();
  }

  @Test
  void aLostConnection_isDownAtOnce() throws Exception {
    redis.kill();
    Await.until(() -> !events.connected(), Duration.ofSeconds(5), "down when the connection drops");
    redis.restart();
    Await.until(events::connected, WAIT, "back once Redis is");
    assertThat(events.timesDown()).isEqualTo(1);
  }
}
