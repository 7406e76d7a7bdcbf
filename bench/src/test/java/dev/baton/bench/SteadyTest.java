package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.baton.bench.SteadyServer.Role;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SteadyTest {
  @Test
  void theMediansRangeIsTheBinomialsOrderStatistics() {
    // The textbook table: n=6 -> 1st to 6th, n=10 -> 2nd to 9th, n=20 -> 6th to 15th, n=30 -> 10th
    // to 21st.
    assertThat(SteadyStats.lowerRank(5)).isZero();
    assertThat(SteadyStats.lowerRank(6)).isEqualTo(1);
    assertThat(SteadyStats.lowerRank(10)).isEqualTo(2);
    assertThat(SteadyStats.lowerRank(20)).isEqualTo(6);
    assertThat(SteadyStats.lowerRank(30)).isEqualTo(10);
    // No underflow where 0.5^n would be 0 in a double.
    assertThat(SteadyStats.lowerRank(1000)).isBetween(460, 480);
  }

  @Test
  void quartilesInterpolateBetweenRanks() {
    var s = SteadyStats.of(List.of(4.0, 1.0, 3.0, 2.0, 5.0));
    assertThat(s.median()).isEqualTo(3.0);
    assertThat(s.q1()).isEqualTo(2.0);
    assertThat(s.q3()).isEqualTo(4.0);
    assertThat(s.lower()).isNaN();
    var even = SteadyStats.of(List.of(1.0, 2.0, 3.0, 4.0));
    assertThat(even.median()).isEqualTo(2.5);
    assertThat(even.q1()).isCloseTo(1.75, within(1e-12));
    var ten = new ArrayList<Double>();
    for (int i = 1; i <= 10; i++) {
      ten.add((double) i);
    }
    var s10 = SteadyStats.of(ten);
    assertThat(s10.lower()).isEqualTo(2.0);
    assertThat(s10.upper()).isEqualTo(9.0);
  }

  @Test
  void theControlMustLieWithinOnePercent() {
    assertThat(SteadyStats.of(List.of(0.995, 1.0, 1.005)).quartilesWithin(1)).isTrue();
    assertThat(SteadyStats.of(List.of(0.95, 1.0, 1.05)).quartilesWithin(1)).isFalse();
  }

  @Test
  void tenRoundsPutEveryServerInEveryPlaceAndEveryPairInBothOrders() {
    int servers = Role.values().length;
    Set<String> seen = new HashSet<>();
    Set<String> pairs = new HashSet<>();
    for (int round = 0; round < SteadyPlan.FULL_TURN; round++) {
      var order = SteadyRun.order(round);
      assertThat(order).containsExactlyInAnyOrder(Role.values());
      for (int place = 0; place < servers; place++) {
        seen.add(order.get(place) + "@" + place);
        if (place > 0) {
          pairs.add(order.get(place - 1) + ">" + order.get(place));
        }
      }
    }
    assertThat(seen).hasSize(servers * servers);
    assertThat(pairs).contains("BARE_A>BARE_A2", "BARE_A2>BARE_A", "PARENT>BATON", "BATON>PARENT");
  }

  @Test
  void aPlanOutsideItsBoundsSaysWhatToUse() {
    var modes = List.of(LoadMode.one());
    assertThatThrownBy(
            () ->
                new SteadyPlan(
                    SampleKind.LIGHT,
                    modes,
                    false,
                    0,
                    Duration.ofSeconds(1),
                    Placement.GROUP,
                    0,
                    Path.of("out"),
                    List.of()))
        .hasMessageContaining("--rounds must be from 1");
    assertThatThrownBy(
            () ->
                new SteadyPlan(
                    SampleKind.LIGHT,
                    modes,
                    false,
                    10,
                    Duration.ofMillis(10),
                    Placement.GROUP,
                    0,
                    Path.of("out"),
                    List.of()))
        .hasMessageContaining("--slice must be from 100ms");
    assertThatThrownBy(() -> Placement.parse("cgroup"))
        .hasMessageContaining("use group")
        .hasMessageContaining("session");
  }

  @Test
  void placementIsReadFromProc() {
    var self = Placement.Where.self();
    assertThat(self.pid()).isEqualTo((int) ProcessHandle.current().pid());
    // In a PID namespace whose session leader sits outside it (a CI container), the kernel reports
    // 0.
    assertThat(self.sid()).isNotNegative();
    assertThat(self.pgid()).isNotNegative();
  }
}
