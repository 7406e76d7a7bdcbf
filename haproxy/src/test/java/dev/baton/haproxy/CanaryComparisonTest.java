package dev.baton.haproxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanaryComparisonTest {
  private static ServerStats stats(String name, long responses, long errors5xx) {
    return new ServerStats(name, 0, 0, "UP", "L7OK", responses, errors5xx, 0, 0);
  }

  private static CanaryComparison compare(
      long canaryRequests, long canaryErrors, long otherRequests, long otherErrors) {
    var before = Map.of("c", stats("c", 100, 1), "o", stats("o", 1000, 10));
    var after =
        Map.of(
            "c",
            stats("c", 100 + canaryRequests, 1 + canaryErrors),
            "o",
            stats("o", 1000 + otherRequests, 10 + otherErrors));
    return CanaryComparison.between(before, after, "c", List.of("o"));
  }

  @Test
  void aCanaryFailingEverythingIsClearlyWorseAfterAFewRequests() {
    assertThat(compare(10, 10, 200, 0).clearlyWorse()).isTrue();
  }

  @Test
  void oneUnluckyRequestAmongManyIsNotWorse() {
    assertThat(compare(500, 1, 5000, 0).worse()).isFalse();
  }

  @Test
  void aFleetThatAlreadyFailsSomeDoesNotFailTheCanaryForTheSameRate() {
    assertThat(compare(100, 5, 1000, 50).worse()).isFalse();
  }

  @Test
  void onlyThePeriodBetweenTheSnapshotsCounts() {
    var comparison = compare(20, 0, 200, 0);
    assertThat(comparison.canary()).isEqualTo(new CanaryComparison.Rate(20, 0));
    assertThat(comparison.worse()).isFalse();
  }
}
