package dev.yaad.agent.learning;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class AdaptiveLimitTest {
  private static double[] replies(double ms) {
    double[] a = new double[40];
    Arrays.fill(a, ms);
    return a;
  }

  @Test
  void grows_whileWorkWaits_andRepliesStayFast_upToTheMax() {
    AdaptiveLimit limit = new AdaptiveLimit(8, 2, 64);
    int previous = limit.limit();
    for (int i = 0; i < 6; i++) {
      int now = limit.adjust(replies(250), true, false);
      assertThat(now).isGreaterThan(previous);
      previous = now;
    }
    for (int i = 0; i < 20; i++) {
      limit.adjust(replies(250), true, false);
    }
    assertThat(limit.limit()).isEqualTo(64);
  }

  @Test
  void staysPut_withoutWaitingWork() {
    AdaptiveLimit limit = new AdaptiveLimit(8, 2, 64);
    for (int i = 0; i < 10; i++) {
      limit.adjust(replies(250), false, false);
    }
    assertThat(limit.limit()).isEqualTo(8);
  }

  @Test
  void halves_whenRepliesSlowDown_neverUnderTheMin_andGrowsAgainOnceTheyRecover() {
    AdaptiveLimit limit = new AdaptiveLimit(32, 2, 64);
    limit.adjust(replies(250), false, false); // the baseline: 250 ms
    assertThat(limit.adjust(replies(300), true, false)).as("within the tolerance (250 * 1.25 + 50 = 362 ms)").isEqualTo(40);
    assertThat(limit.adjust(replies(400), true, false)).as("slower than the tolerance").isEqualTo(20);
    assertThat(limit.adjust(replies(900), true, false)).isEqualTo(10);
    for (int i = 0; i < 5; i++) {
      limit.adjust(replies(900), true, false);
    }
    assertThat(limit.limit()).isEqualTo(2);
    assertThat(limit.adjust(replies(260), true, false)).as("replies fast again").isEqualTo(3);
  }

  @Test
  void aFewReplies_sayNothing_aboutReplies() {
    AdaptiveLimit limit = new AdaptiveLimit(8, 2, 64);
    limit.adjust(replies(250), false, false);
    assertThat(limit.adjust(new double[] {5_000, 5_000, 5_000}, true, false)).isEqualTo(10);
  }

  @Test
  void theBaselineForgetsOldIntervals() {
    AdaptiveLimit limit = new AdaptiveLimit(8, 2, 64);
    limit.adjust(replies(100), false, false);
    for (int i = 0; i < AdaptiveLimit.BASELINE_INTERVALS; i++) {
      limit.adjust(replies(1_000), false, false); // the first ones halve it; then 1 s is the new normal
    }
    int settled = limit.limit();
    assertThat(limit.adjust(replies(1_000), true, false)).as("1 s is all the recent intervals saw").isGreaterThan(settled);
  }

  @Test
  void oneLuckyInterval_doesNotMakeTheOthersLookSlow() {
    AdaptiveLimit limit = new AdaptiveLimit(8, 2, 64);
    for (int i = 0; i < 10; i++) {
      limit.adjust(replies(300), false, false);
    }
    limit.adjust(replies(50), false, false); // a quiet moment on a busy machine
    assertThat(limit.adjust(replies(300), true, false)).as("300 ms is what replies usually take here").isEqualTo(10);
  }

  @Test
  void behind_itYieldsNoFurtherThanWhereItStarted() {
    AdaptiveLimit limit = new AdaptiveLimit(8, 2, 64);
    limit.adjust(replies(250), false, false);
    for (int i = 0; i < 3; i++) {
      limit.adjust(replies(250), true, false);
    }
    assertThat(limit.limit()).isGreaterThan(8);
    for (int i = 0; i < 5; i++) {
      limit.adjust(replies(2_000), true, true);
    }
    assertThat(limit.limit()).as("slow replies, but learning is behind").isEqualTo(8);
    assertThat(new AdaptiveLimit(8, 2, 64).adjust(replies(250), false, false)).isEqualTo(8);
    AdaptiveLimit low = new AdaptiveLimit(8, 2, 64);
    low.adjust(replies(250), false, false);
    low.adjust(replies(2_000), true, false);
    assertThat(low.limit()).isEqualTo(4);
    assertThat(low.adjust(replies(2_000), false, true)).as("fallen behind: back to where it started").isEqualTo(8);
  }
}
