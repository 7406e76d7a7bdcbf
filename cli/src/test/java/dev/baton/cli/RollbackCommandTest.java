package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code baton rollback}: its reason and wait flag, and how it reports the answer. */
class RollbackCommandTest extends AgainstFakeSupervisor {
  private static final DeployEvent RESUMED =
      new DeployEvent(DeployStep.RESUMED, 2, 401, Duration.ofMillis(1), "parked generation");

  @Test
  void withoutOptionsItSaysItWasAskedForAndDoesNotWait() {
    supervisor.answer(RESUMED, new Reply.Done(2, 401));

    var result = Cli.run("rollback", "-c", config);

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(supervisor.request())
        .isEqualTo(new Request.Rollback(Optional.of("requested with baton rollback"), false));
    assertThat(result.outLines())
        .containsExactly(Replies.describe(RESUMED), "generation 2 is active (pid 401)");
  }

  @Test
  void theReasonAndWaitGoInTheRequest() {
    supervisor.answer(new Reply.Done(2, 401));

    var result = Cli.run("rollback", "-c", config, "--wait", "--reason", "error rate up 4x");

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(supervisor.request())
        .isEqualTo(new Request.Rollback(Optional.of("error rate up 4x"), true));
  }

  @Test
  void aRefusedRollbackExitsOneWithTheReason() {
    supervisor.answer(new Reply.Failed("there is no previous generation to roll back to"));

    var result = Cli.run("rollback", "-c", config);

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.errLines())
        .containsExactly("baton: there is no previous generation to roll back to");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void jsonPrintsTheEventsAndTheReply() {
    supervisor.answer(RESUMED, new Reply.Done(2, 401));

    var result = Cli.run("rollback", "-c", config, "--json");

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(result.outLines().stream().map(Codec::decodeMessage))
        .containsExactly(RESUMED, new Reply.Done(2, 401));
  }

  @Test
  void aReasonOptionWithoutItsTextIsAUsageError() {
    var result = Cli.run("rollback", "-c", config, "--reason");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).contains("Missing required parameter for option '--reason'");
    assertThat(supervisor.requests()).isEmpty();
  }

  @Test
  void anArgumentIsAUsageError() {
    var result = Cli.run("rollback", "-c", config, "3");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).contains("Unmatched argument").contains("'3'");
    assertThat(supervisor.requests()).isEmpty();
  }
}
