package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code baton upgrade}: asks for the re-exec, then polls status until the same pid answers with an
 * active generation.
 */
class UpgradeCommandTest extends AgainstFakeSupervisor {
  private static Reply.StatusReply status(int pid, Optional<Integer> active) {
    return new Reply.StatusReply(
        new Status(
            pid, active, false, Optional.empty(), List.of(), List.of(), List.of(), List.of()));
  }

  @Test
  void waitsUntilTheUpgradedSupervisorAnswersWithAnActiveGeneration() {
    supervisor
        .answer(new Reply.Upgrading(4242))
        .answer() // still exec'ing: hangs up
        .answer(status(4242, Optional.empty())) // back, but not yet serving
        .answer(status(4242, Optional.of(3)));

    var result = Cli.run("upgrade", "-c", config);

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(supervisor.requests())
        .containsExactly(
            new Request.Upgrade(),
            new Request.GetStatus(),
            new Request.GetStatus(),
            new Request.GetStatus());
    assertThat(result.outLines()).hasSize(1);
    assertThat(result.outLines().getFirst())
        .matches("upgraded in \\d+ ms: supervisor pid 4242 unchanged, generation 3 still active");
  }

  @Test
  void jsonIsOneSummaryLine() {
    supervisor.answer(new Reply.Upgrading(4242)).answer(status(4242, Optional.of(3)));

    var result = Cli.run("upgrade", "-c", config, "--json");

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(result.outLines()).hasSize(1);
    var json = JsonMapper.builder().build().readTree(result.out());
    assertThat(json.get("ok").asBoolean()).isTrue();
    assertThat(json.get("pid").asInt()).isEqualTo(4242);
    assertThat(json.get("active_generation").asInt()).isEqualTo(3);
    assertThat(json.get("ms").isIntegralNumber()).isTrue();
    assertThat(json.get("ms").asLong()).isNotNegative();
  }

  @Test
  void aRefusedUpgradeExitsOneWithoutPolling() {
    supervisor.answer(new Reply.Failed("a deploy is in progress; upgrade after it"));

    var result = Cli.run("upgrade", "-c", config);

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.errLines())
        .containsExactly("baton: a deploy is in progress; upgrade after it");
    assertThat(supervisor.requests()).containsExactly(new Request.Upgrade());
  }

  @Test
  void anExecThatFailedIsTheLineAfterUpgrading() {
    supervisor.answer(
        new Reply.Upgrading(4242), new Reply.Failed("execve failed: No such file or directory"));

    var result = Cli.run("upgrade", "-c", config);

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.error()).isEqualTo("baton: execve failed: No such file or directory");
    assertThat(supervisor.requests()).containsExactly(new Request.Upgrade());
  }

  @Test
  void aSupervisorThatNeverComesBackFailsAfterTheTimeout() {
    // Another pid answers: not the upgraded supervisor.
    supervisor.answer(new Reply.Upgrading(4242)).answer(status(99, Optional.of(3)));

    long start = System.nanoTime();
    var result = Cli.run("upgrade", "-c", config, "--timeout", "200ms");
    long ms = (System.nanoTime() - start) / 1_000_000;

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.errLines())
        .containsExactly(
            "baton: the upgraded supervisor did not answer within 200 ms; see its log");
    assertThat(ms).isBetween(200L, 5_000L); // waited the timeout, and did not hang
    assertThat(supervisor.requests().size()).isGreaterThan(2);
  }

  @Test
  void aTimeoutWithoutItsDurationIsAUsageError() {
    var result = Cli.run("upgrade", "-c", config, "--timeout");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).contains("Missing required parameter for option '--timeout'");
    assertThat(supervisor.requests()).isEmpty();
  }
}
