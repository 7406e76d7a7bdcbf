package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Os;
import dev.baton.protocol.DeployKind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deploy record and what reads it: one line per deploy that ended, the metrics counted from the
 * same ends, and the status page; driven through the fake OS.
 */
class DeployRecordTest {
  @TempDir Path dir;
  private Harness h;

  @BeforeEach
  void harness() {
    h = new Harness(dir);
  }

  @AfterEach
  void invariants() {
    h.checkInvariants();
  }

  private String metrics(Supervisor supervisor) {
    var queues = new LinkedHashMap<String, Optional<Os.AcceptQueue>>();
    queues.put("http", Optional.of(new Os.AcceptQueue(3, 4096)));
    return supervisor.deployRecord().metrics().render(h.status(), queues, "1.2.3");
  }

  @Test
  void deploysAFailedDeployAndARollbackAreCountedAndRecordedOnceEach() throws Exception {
    var supervisor = h.start();
    h.deployed();
    h.deployed();
    h.apps(p -> p.exitWith(3));
    Harness.failure(h.deploy());
    h.apps(FakeProcess::ready);
    assertThat(h.rollback("operator: v3 is slow")).isCompleted();
    h.drive();

    var text = metrics(supervisor);
    assertThat(text)
        .contains("baton_deploys_total{kind=\"start\",result=\"ok\",trigger=\"start\"} 1\n")
        .contains("baton_deploys_total{kind=\"deploy\",result=\"ok\",trigger=\"manual\"} 2\n")
        .contains("baton_deploys_total{kind=\"deploy\",result=\"failed\",trigger=\"manual\"} 1\n")
        .contains("baton_deploys_total{kind=\"rollback\",result=\"ok\",trigger=\"manual\"} 1\n")
        .contains("baton_deploy_duration_seconds_count{kind=\"deploy\"} 3\n")
        .contains("baton_deploy_duration_seconds_bucket{kind=\"deploy\",le=\"+Inf\"} 3\n")
        .contains("baton_build_info{version=\"1.2.3\"} 1\n")
        .contains("baton_listener_queue_length{listener=\"http\"} 3\n")
        .contains("baton_listener_queue_max{listener=\"http\"} 4096\n")
        .contains("# TYPE baton_deploys_total counter\n")
        .contains("# TYPE baton_deploy_duration_seconds histogram\n");
    assertThat(text).contains("baton_active_generation " + h.status().activeGeneration().get());

    var lines = Files.readAllLines(dir.resolve("baton.sock.deploys"), StandardCharsets.UTF_8);
    assertThat(lines).hasSize(5);
    var entries = lines.stream().map(DeployRecord::read).toList();
    assertThat(entries)
        .extracting(DeployRecord.Entry::kind)
        .containsExactly(
            DeployKind.START,
            DeployKind.DEPLOY,
            DeployKind.DEPLOY,
            DeployKind.DEPLOY,
            DeployKind.ROLLBACK);
    assertThat(entries)
        .extracting(DeployRecord.Entry::ok)
        .containsExactly(true, true, true, false, true);
    var failed = entries.get(3);
    assertThat(failed.generation()).contains(4);
    assertThat(failed.replaced()).contains(3);
    assertThat(failed.promoted()).isEmpty();
    assertThat(failed.error()).contains("exited with status 3");
    assertThat(failed.command()).containsExactly("/bin/sh", "-c", "exec app");
    assertThat(entries.get(4).reason()).isEqualTo("operator: v3 is slow");
    assertThat(entries.get(1).ready()).isPresent();
    assertThat(entries.get(1).promoted()).isPresent();

    // A supervisor started later reads its history back from the file.
    assertThat(new DeployRecord(dir.resolve("baton.sock.deploys")).recent()).isEqualTo(entries);
  }

  @Test
  void aRollbackForAFailedBakeIsTriggeredByTheBake() {
    assertThat(DeployRecord.trigger(DeployKind.ROLLBACK, "bake failed: GET /health ..."))
        .isEqualTo("bake");
    assertThat(DeployRecord.trigger(DeployKind.ROLLBACK, "operator")).isEqualTo("manual");
    assertThat(DeployRecord.trigger(DeployKind.RESTART, "")).isEqualTo("crash");
  }

  @Test
  void theFileIsRotatedPastItsSizeAndLinesThatDoNotReadAreSkipped() throws Exception {
    var file = dir.resolve("x.deploys");
    var entry =
        new DeployRecord.Entry(
            Instant.parse("2026-01-05T10:00:00Z"),
            DeployKind.DEPLOY,
            "manual",
            true,
            "r".repeat(1000),
            Optional.of(7),
            Optional.of(6),
            Optional.of(Duration.ofMillis(120)),
            Optional.of(Duration.ofMillis(125)),
            Duration.ofMillis(130),
            List.of("./app"),
            "");
    var line = DeployRecord.write(entry) + "\n";
    int perFile = (int) (DeployRecord.MAX_BYTES / line.length());
    Files.writeString(file, "not json\n" + line.repeat(perFile - 1));
    var record = new DeployRecord(file);
    assertThat(record.recent()).hasSize(DeployRecord.KEPT).allMatch(entry::equals);
    record.append(entry);
    assertThat(Files.readAllLines(file)).hasSize(1);
    assertThat(Files.readAllLines(dir.resolve("x.deploys.1"))).hasSize(perFile);
    assertThat(new DeployRecord(file).recent()).hasSize(DeployRecord.KEPT);
    assertThat(DeployRecord.read(DeployRecord.write(entry))).isEqualTo(entry);
  }

  @Test
  void thePageEscapesWhatItShowsAndListsTheHistory() {
    var supervisor = h.start();
    h.deployed();
    h.apps(p -> p.exitWith(3));
    Harness.failure(h.deploy(List.of("/bin/<script>alert(1)</script>")));
    var page =
        StatusPage.render(
            new MetricsServer.View(h.status(), supervisor.deployRecord().recent(), ""));
    assertThat(page)
        .contains("<meta http-equiv=\"refresh\" content=\"2\">")
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        .doesNotContain("<script>")
        .contains("data-kind=\"deploy\" data-result=\"ok\"")
        .contains("data-kind=\"deploy\" data-result=\"failed\"")
        .contains("<b id=\"active\">2</b>");
  }

  @Test
  void theHistoryNamesATriggerOnlyWhenItSaysMoreThanTheKindAndAnErrorAloneStartsItsCell() {
    var supervisor = h.start();
    h.apps(p -> p.exitWith(3));
    Harness.failure(h.deploy());
    h.apps(FakeProcess::ready);
    var page =
        StatusPage.render(
            new MetricsServer.View(h.status(), supervisor.deployRecord().recent(), ""));

    assertThat(page)
        .contains("data-kind=\"start\" data-result=\"ok\"><td class=\"n\">")
        .contains("</td><td>start</td>")
        .doesNotContain("start (start)")
        .contains("<td class=\"reason\"><span class=\"failed\">generation 2")
        .doesNotContain("<td class=\"reason\"><br>");
  }
}
