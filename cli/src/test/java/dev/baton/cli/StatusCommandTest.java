package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** {@code baton status}: the supervisor's status as a table, or as its JSON. */
class StatusCommandTest extends AgainstFakeSupervisor {
  private static final Instant STARTED = Instant.parse("2025-06-01T10:00:00.250Z");

  static final Status STATUS =
      new Status(
          4242,
          Optional.of(3),
          false,
          Optional.empty(),
          List.of(2),
          List.of(
              new Status.GenerationStatus(
                  3,
                  "active",
                  501,
                  List.of("java", "-jar", "app-v3.jar"),
                  STARTED,
                  Optional.of(STARTED.plusMillis(400)),
                  Optional.of(STARTED.plusMillis(410)),
                  Optional.empty(),
                  "GET /healthz: 200 after 400 ms",
                  Optional.empty(),
                  ""),
              new Status.GenerationStatus(
                  2,
                  "parked",
                  401,
                  List.of("java", "-jar", "app-v2.jar"),
                  STARTED.minusSeconds(3600),
                  Optional.empty(),
                  Optional.empty(),
                  Optional.empty(),
                  "GET /healthz",
                  Optional.empty(),
                  "replaced by generation 3"),
              new Status.GenerationStatus(
                  1,
                  "failed",
                  301,
                  List.of("java", "-jar", "app-v1.jar"),
                  STARTED.minusSeconds(7200),
                  Optional.empty(),
                  Optional.empty(),
                  Optional.of(STARTED.minusSeconds(7170)),
                  "GET /healthz",
                  Optional.of("exited with status 1"),
                  "not ready within 30 s")),
          List.of(
              new Status.ListenerStatus("http", "0.0.0.0:8080", "listen-fds", 3, List.of(3), false),
              new Status.ListenerStatus(
                  "admin", "127.0.0.1:9090", "listen-fds", 4, List.of(2), true)),
          List.of(
              new Status.HistoryEntry(
                  STARTED.plusMillis(410), DeployKind.DEPLOY, 3, Optional.of(2), "baton deploy")));

  @Test
  void printsTheSupervisorTheGenerationsTheListenersAndTheHistory() {
    supervisor.answer(new Reply.StatusReply(STATUS));

    var result = Cli.run("status", "-c", config);

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(supervisor.request()).isEqualTo(new Request.GetStatus());
    var time = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
    var lines = result.outLines();
    assertThat(lines.getFirst()).isEqualTo("supervisor pid 4242, active generation 3");
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches("3 +active +501 +" + time.format(STARTED) + " +GET /healthz.*")
                    .endsWith("java -jar app-v3.jar"))
        .anySatisfy(l -> assertThat(l).startsWith("2 ").contains("parked", "app-v2.jar"))
        .contains(
            "      replaced by generation 3",
            "      exited with status 1 — not ready within 30 s",
            "parked for rollback: generation(s) [2]")
        .anySatisfy(
            l -> assertThat(l).matches("http +0\\.0\\.0\\.0:8080 +listen-fds +shared +3 +3"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches(
                        "admin +127\\.0\\.0\\.1:9090 +listen-fds +shared +4 +2 \\(removed from the"
                            + " config; closed when they are gone\\)"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches(
                        time.format(STARTED.plusMillis(410)) + " +deploy +3 +2 +baton deploy"));
    assertThat(result.err()).isEmpty();
  }

  @Test
  void saysSoWhenNothingIsActiveAndADeployRunsOrItCrashLoops() {
    supervisor.answer(
        new Reply.StatusReply(
            new Status(
                7,
                Optional.empty(),
                true,
                Optional.of("generation 1 exited 5 times in 10 s"),
                List.of(),
                List.of(),
                List.of(),
                List.of())));

    var result = Cli.run("status", "-c", config);

    assertThat(result.status()).isZero();
    assertThat(result.outLines())
        .startsWith(
            "supervisor pid 7, no active generation, deploy in progress",
            "crash-looping: generation 1 exited 5 times in 10 s")
        .noneMatch(l -> l.startsWith("AT "));
  }

  @Test
  void jsonIsTheStatusAsTheProtocolWritesIt() {
    supervisor.answer(new Reply.StatusReply(STATUS));

    var result = Cli.run("status", "-c", config, "--json");

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(result.outLines()).hasSize(1);
    assertThat(Codec.decodeStatus(result.out())).isEqualTo(STATUS);
    var json = JsonMapper.builder().build().readTree(result.out());
    assertThat(json.get("supervisor_pid").asInt()).isEqualTo(4242);
    assertThat(json.get("active_generation").asInt()).isEqualTo(3);
    assertThat(json.get("generations").get(1).get("state").asString()).isEqualTo("parked");
    assertThat(json.get("listeners").get(0).get("address").asString()).isEqualTo("0.0.0.0:8080");
  }

  @Test
  void aRefusalExitsOneWithTheReason() {
    supervisor.answer(new Reply.Failed("the supervisor is stopping"));

    var result = Cli.run("status", "-c", config, "--json");

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.errLines()).containsExactly("baton: the supervisor is stopping");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void anAnswerThatIsNotAStatusExitsOne() {
    supervisor.answer(new Reply.Ok());

    var result = Cli.run("status", "-c", config);

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.error())
        .startsWith("baton: the supervisor answered status with Ok[]")
        .endsWith("is it a baton of another version?");
  }

  @Test
  void theSocketIsTheOneTheConfigNames() throws Exception {
    var elsewhere = Cli.config(dir, "[control]", "socket = \"run/ctl.sock\"");
    java.nio.file.Files.createDirectory(dir.resolve("run"));
    try (var other = FakeSupervisor.at(dir.resolve("run/ctl.sock"))) {
      other.answer(new Reply.StatusReply(STATUS));

      var result = Cli.run("status", "-c", elsewhere.toString());

      assertThat(result.status()).as(result.toString()).isZero();
      assertThat(other.request()).isEqualTo(new Request.GetStatus());
      assertThat(supervisor.requests()).isEmpty();
    }
  }
}
