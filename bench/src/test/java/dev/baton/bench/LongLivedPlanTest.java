package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LongLivedPlanTest {
  private static LongLivedPlan plan(String kind, int clients, Duration window, int maxDraining) {
    return new LongLivedPlan(
        kind,
        clients,
        Duration.ofSeconds(20),
        Duration.ofSeconds(1),
        window,
        maxDraining,
        Duration.ofSeconds(2),
        Duration.ofSeconds(10),
        Path.of("out"),
        false);
  }

  @Test
  void theKindIsWsOrH2cInAnyCase() {
    assertThat(plan("WS", 1, Duration.ofSeconds(10), 2).fleetKind())
        .isEqualTo(LongLivedClients.Kind.WS);
    assertThat(plan(" h2c", 1, Duration.ofSeconds(10), 2).kind()).isEqualTo("h2c");
    assertThatThrownBy(() -> plan("sse", 1, Duration.ofSeconds(10), 2))
        .hasMessage("--long-lived must be ws or h2c, was 'sse'");
  }

  @Test
  void theBoundsAreChecked() {
    assertThatThrownBy(() -> plan("ws", 0, Duration.ofSeconds(10), 2))
        .hasMessage("--clients must be from 1 to 50000, was 0");
    assertThatThrownBy(() -> plan("ws", 10, Duration.ofMillis(500), 2))
        .hasMessage("--drain-window must be at least 1s, was 500 ms");
    assertThatThrownBy(() -> plan("ws", 10, Duration.ofSeconds(10), 0))
        .hasMessage("--max-draining must be at least 1, was 0");
  }

  @Test
  void theConfigBoundsTheDrainsAndNeverParks() {
    var config =
        LongLivedRun.config(
            plan("ws", 10, Duration.ofSeconds(10), 3),
            List.of("java", "-cp", "lib/*", "Main"),
            9999);

    assertThat(config)
        .contains("command = [\"java\", \"-cp\", \"lib/*\", \"Main\"]")
        .contains("address = \"127.0.0.1:0\"")
        .contains("notify = true")
        .contains("timeout = \"10000ms\"\nmax_draining = 3")
        .contains("[park]\nmax = 0")
        .contains("address = \"127.0.0.1:9999\"");
  }

  @Test
  void servingCountsTheActiveAndDrainingGenerations() {
    var status =
        new Status(
            1,
            Optional.of(4),
            false,
            Optional.empty(),
            List.of(),
            List.of(
                generation(1, "exited"),
                generation(2, "draining"),
                generation(3, "draining"),
                generation(4, "active"),
                generation(5, "starting")),
            List.of(),
            List.of());

    assertThat(LongLivedSampler.serving(status)).isEqualTo(3);
  }

  private static Status.GenerationStatus generation(int number, String state) {
    return new Status.GenerationStatus(
        number,
        state,
        0,
        List.of(),
        Instant.EPOCH,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        "",
        Optional.empty(),
        "");
  }

  @Test
  void theHurriedCountIsReadFromTheMetrics() {
    var metrics =
        """
        # TYPE baton_drains_hurried_total counter
        baton_drains_hurried_total 17
        baton_deploys_total{kind="deploy"} 20
        """;

    assertThat(LongLivedSampler.hurried(metrics)).hasValue(17);
    assertThat(LongLivedSampler.hurried("nothing")).isEmpty();
  }
}
