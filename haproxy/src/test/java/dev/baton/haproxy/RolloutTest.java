package dev.baton.haproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The rollout's state machine against a fake HAProxy, fake supervisors and a fake clock. */
class RolloutTest {
  private final FakeHaproxy haproxy = new FakeHaproxy("s1", "s2", "s3");
  private final LinkedHashMap<String, FakeHost> hosts = new LinkedHashMap<>();
  private final List<RolloutEvent> events = new ArrayList<>();
  private Instant now = Instant.parse("2026-01-01T00:00:00Z");

  RolloutTest() {
    for (var name : List.of("s1", "s2", "s3")) {
      hosts.put(name, new FakeHost(name, haproxy));
    }
  }

  private RolloutPlan.Builder plan() {
    return RolloutPlan.builder()
        .haproxy("/run/haproxy/admin.sock")
        .backend("app")
        .servers(
            List.of(
                new RolloutPlan.Server("s1", "a"),
                new RolloutPlan.Server("s2", "b"),
                new RolloutPlan.Server("s3", "c")))
        .command(List.of("app", "v2"));
  }

  private InstantSource clock() {
    return () -> now;
  }

  private RolloutReport rollOut(RolloutPlan plan) {
    return new Rollout(plan, haproxy, new LinkedHashMap<>(hosts), clock(), d -> now = now.plus(d))
        .run(events::add);
  }

  private void assertEveryServerReadyAtFullWeight() {
    haproxy.servers.forEach(
        (name, s) -> {
          assertThat(s.admin).as(name + " admin state").isEqualTo("ready");
          assertThat(s.weight).as(name + " weight").isEqualTo(100);
        });
  }

  private List<String> steps(String server) {
    return events.stream().filter(e -> e.server().equals(server)).map(RolloutEvent::step).toList();
  }

  @Test
  void eachServerIsDrainedDeployedCheckedAndSetReadyInTurn() {
    var report = rollOut(plan().build());

    assertThat(report.hosts())
        .extracting(RolloutReport.HostReport::server)
        .containsExactly("s1", "s2", "s3");
    hosts.values().forEach(h -> assertThat(h.command).containsExactly("app", "v2"));
    assertThat(steps("s2"))
        .containsExactly("drain", "drained", "supervisor", "check", "deployed", "healthy", "ready");
    assertThat(haproxy.commands.subList(0, 4))
        .containsExactly(
            "set server app/s1 state drain",
            "set server app/s1 health down",
            "set server app/s1 state drain",
            "set server app/s1 state ready");
    assertEveryServerReadyAtFullWeight();
  }

  @Test
  void theNextServerIsDrainedOnlyOnceThePreviousIsReady() {
    rollOut(plan().build());

    var commands = haproxy.commands;
    assertThat(commands.indexOf("set server app/s2 state drain"))
        .isGreaterThan(commands.indexOf("set server app/s1 state ready"));
    assertThat(commands.indexOf("set server app/s3 state drain"))
        .isGreaterThan(commands.indexOf("set server app/s2 state ready"));
  }

  @Test
  void aServerMissingFromTheBackendStopsTheRolloutBeforeAnythingChanges() {
    var plan =
        plan()
            .servers(List.of(new RolloutPlan.Server("s1", "a"), new RolloutPlan.Server("s9", "z")))
            .build();

    assertThatThrownBy(() -> rollOut(plan))
        .isInstanceOf(RolloutException.class)
        .hasMessageContaining("has no server named s9 (it has s1, s2, s3)")
        .hasMessageContaining("Nothing was changed")
        .matches(e -> !((RolloutException) e).started());
    assertThat(haproxy.commands).isEmpty();
    assertThat(hosts.get("s1").deploys).isZero();
  }

  @Test
  void anUnknownBackendIsNamedAsSuch() {
    assertThatThrownBy(() -> rollOut(plan().backend("web").build()))
        .hasMessageContaining("HAProxy has no backend named 'web'");
  }

  @Test
  void anUnreachableHaproxyStopsTheRolloutBeforeAnythingChanges() {
    haproxy.failure =
        new RuntimeApiException(
            "HAProxy's Runtime API at /run/haproxy/admin.sock refused the connection");

    assertThatThrownBy(() -> rollOut(plan().build()))
        .hasMessageContaining("refused the connection")
        .hasMessageContaining("Nothing was changed");
    assertThat(hosts.get("s1").deploys).isZero();
  }

  @Test
  void aServerAlreadyDrainedByAnOperatorIsNotTouched() {
    haproxy.server("s3").admin = "drain";

    assertThatThrownBy(() -> rollOut(plan().build()))
        .hasMessageContaining("app/s3 is drain and up in HAProxy");
    assertThat(haproxy.server("s3").admin).isEqualTo("drain");
    assertThat(haproxy.commands).isEmpty();
  }

  @Test
  void aBatchThatWouldDrainEveryServingServerIsRefused() {
    assertThatThrownBy(() -> rollOut(plan().batch(3).build()))
        .hasMessageContaining("would leave backend 'app' with 0 serving out of 3");
  }

  @Test
  void aFailedDeployRollsBackTheServersAlreadyDoneAndLeavesEveryServerReady() {
    hosts.get("s3").deployFailure =
        Optional.of(new HostException("generation 2 was not ready within 20000 ms", false));

    assertThatThrownBy(() -> rollOut(plan().build()))
        .isInstanceOf(RolloutException.class)
        .hasMessageContaining("s3 (deploy): generation 2 was not ready")
        .hasMessageContaining("Rolled back s2, s1")
        .hasMessageContaining("Every server is ready in HAProxy");
    hosts.values().forEach(h -> assertThat(h.command).containsExactly("app", "v1"));
    assertThat(hosts.get("s3").rollbacks).as("s3 never left v1").isZero();
    assertEveryServerReadyAtFullWeight();
  }

  @Test
  void anUnreachableSupervisorMidRolloutRollsBackTheOthersAndLeavesItReady() {
    hosts.get("s2").deployFailure =
        Optional.of(
            new HostException("cannot reach the supervisor at fake:s2: connection refused", true));

    assertThatThrownBy(() -> rollOut(plan().build()))
        .hasMessageContaining("s2 (deploy): cannot reach the supervisor")
        .hasMessageContaining("Rolled back s1");
    assertThat(hosts.get("s1").command).containsExactly("app", "v1");
    assertThat(hosts.get("s3").deploys).isZero();
    assertEveryServerReadyAtFullWeight();
  }

  @Test
  void aNewVersionThatFailsHaproxysHealthCheckIsRolledBack() {
    hosts.get("s1").newVersionFailsHealthCheck = true;

    assertThatThrownBy(() -> rollOut(plan().healthTimeout(Duration.ofSeconds(5)).build()))
        .hasMessageContaining("s1 (check): HAProxy's health check has not passed within 5 s")
        .hasMessageContaining("Rolled back s1");
    assertThat(hosts.get("s1").command).containsExactly("app", "v1");
    assertThat(haproxy.server("s1").op).isEqualTo(2);
    assertEveryServerReadyAtFullWeight();
  }

  @Test
  void sessionsThatNeverEndAbortTheRolloutAtTheDrainTimeout() {
    haproxy.server("s1").sessions = Long.MAX_VALUE;

    assertThatThrownBy(() -> rollOut(plan().drainTimeout(Duration.ofSeconds(2)).build()))
        .hasMessageContaining("s1 (drain): still")
        .hasMessageContaining("No server had the new version yet");
    assertThat(hosts.get("s1").deploys).isZero();
    assertEveryServerReadyAtFullWeight();
  }

  @Test
  void aCanaryThatAnswers5xxIsAbortedEarlyAndRolledBackToItsWeight() {
    var plan =
        plan()
            .command(List.of("app", "bad"))
            .canary("s2")
            .canaryWeight(10)
            .canaryBake(Duration.ofSeconds(30))
            .build();

    assertThatThrownBy(() -> rollOut(plan))
        .hasMessageContaining("s2 (bake): the canary fails more requests than the other servers")
        .hasMessageContaining("Rolled back s2");
    assertThat(haproxy.commands).contains("set weight app/s2 10", "set weight app/s2 100");
    assertThat(hosts.get("s1").deploys).isZero();
    assertThat(
            events.stream()
                .filter(e -> e.step().equals("abort"))
                .findFirst()
                .orElseThrow()
                .elapsed())
        .as("aborted long before the 30 s bake was over")
        .isLessThan(Duration.ofSeconds(5));
    assertEveryServerReadyAtFullWeight();
  }

  @Test
  void aHealthyCanaryBakesThenTheOthersFollow() {
    var report = rollOut(plan().canary("s3").canaryBake(Duration.ofSeconds(10)).build());

    assertThat(report.hosts())
        .extracting(RolloutReport.HostReport::server)
        .containsExactly("s3", "s1", "s2");
    assertThat(steps("s3")).contains("bake", "baked");
    assertEveryServerReadyAtFullWeight();
  }

  @Test
  void batchesMoveSeveralServersAtOnce() {
    var haproxy5 = new FakeHaproxy("s1", "s2", "s3", "s4", "s5");
    var hosts5 = new LinkedHashMap<String, Host>();
    var servers = new ArrayList<RolloutPlan.Server>();
    for (var name : haproxy5.servers.keySet()) {
      hosts5.put(name, new FakeHost(name, haproxy5));
      servers.add(new RolloutPlan.Server(name, name));
    }
    var plan = plan().servers(servers).batch(2).build();

    var report =
        new Rollout(plan, haproxy5, hosts5, clock(), d -> now = now.plus(d)).run(events::add);

    assertThat(report.hosts()).hasSize(5);
    assertThat(plan.batches())
        .containsExactly(List.of("s1", "s2"), List.of("s3", "s4"), List.of("s5"));
  }

  @Test
  void aDrainCancelledByAnAgentCheckIsSetAgain() {
    haproxy.server("s1").sessions = 5;
    haproxy.agentAnswersReadyOnce.add("s1");

    rollOut(plan().build());

    assertThat(events)
        .anyMatch(
            e ->
                e.server().equals("s1")
                    && e.step().equals("drain")
                    && e.detail().contains("set to drain again"));
    assertThat(
            haproxy.commands.stream()
                .filter(c -> c.equals("set server app/s1 state drain"))
                .count())
        .isEqualTo(3);
  }

  @Test
  void aRolloutCutShortFromOutsideLeavesEveryServerReady() {
    var rollout =
        new Rollout(
            plan().build(), haproxy, new LinkedHashMap<>(hosts), clock(), d -> now = now.plus(d));
    var statesWhenAbandoned = new ArrayList<String>();
    hosts.get("s2").beforeDeploy =
        () -> {
          assertThat(haproxy.server("s2").admin)
              .as("s2 is drained while it deploys")
              .isEqualTo("drain");
          rollout.abandon();
          haproxy.servers.forEach((name, s) -> statesWhenAbandoned.add(name + "=" + s.admin));
        };

    rollout.run(events::add);

    assertThat(statesWhenAbandoned).containsExactly("s1=ready", "s2=ready", "s3=ready");
    assertThat(events)
        .anyMatch(e -> e.step().equals("abort") && e.detail().contains("interrupted"));
  }

  @Test
  void aServerWhoseSupervisorRolledBackOnItsOwnFailsTheRollout() {
    hosts.get("s3").beforeDeploy = () -> hosts.get("s1").generation = 7;

    assertThatThrownBy(() -> rollOut(plan().build()))
        .hasMessageContaining(
            "s1 (verify): its supervisor no longer runs generation 2 but generation 7");
    assertEveryServerReadyAtFullWeight();
  }

  @Test
  void haproxyGoneMidRolloutIsReportedWithTheCommandsToRunByHand() {
    hosts.get("s2").beforeDeploy =
        () ->
            haproxy.failure =
                new RuntimeApiException(
                    "HAProxy's Runtime API at /run/haproxy/admin.sock refused the connection");

    assertThatThrownBy(() -> rollOut(plan().build()))
        .hasMessageContaining(
            "s2 (check): HAProxy's Runtime API at /run/haproxy/admin.sock refused the connection")
        .hasMessageContaining("NOT rolled back: s2 (drain)")
        .hasMessageContaining(
            "run 'set server app/s2 state ready' on HAProxy's stats socket /run/haproxy/admin.sock");
  }
}
