package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code baton deploy}: what it asks the supervisor for, and how it reports the answer. */
class DeployCommandTest extends AgainstFakeSupervisor {
  private static final DeployEvent SPAWNED =
      new DeployEvent(DeployStep.SPAWNED, 3, 501, Duration.ofMillis(2), "java -jar app-v3.jar");
  private static final DeployEvent PROMOTED =
      new DeployEvent(DeployStep.PROMOTED, 3, 501, Duration.ofMillis(412), "");

  @Test
  void withoutArgumentsItDeploysTheConfigsCommandAndPrintsEachStep() {
    supervisor.answer(SPAWNED, PROMOTED, new Reply.Done(3, 501));

    var result = Cli.run("deploy", "-c", config);

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(supervisor.request())
        .isEqualTo(new Request.Deploy(Optional.empty(), Map.of(), false));
    assertThat(result.outLines())
        .containsExactly(
            Replies.describe(SPAWNED),
            Replies.describe(PROMOTED),
            "generation 3 is active (pid 501)");
    assertThat(result.outLines().getFirst())
        .startsWith("spawned   generation 3")
        .contains("pid 501")
        .endsWith("java -jar app-v3.jar");
    assertThat(result.err()).isEmpty();
  }

  @Test
  void theArgvAfterTheDashesTheEnvAndWaitGoInTheRequest() {
    supervisor.answer(new Reply.Done(4, 600));

    var result =
        Cli.run(
            "deploy",
            "--config=" + config,
            "--wait",
            "--env",
            "FEATURE=on",
            "--env",
            "GREETING=a=b",
            "--",
            "java",
            "-jar",
            "app-v4.jar");

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(supervisor.request())
        .isEqualTo(
            new Request.Deploy(
                Optional.of(List.of("java", "-jar", "app-v4.jar")),
                Map.of("FEATURE", "on", "GREETING", "a=b"),
                true));
  }

  @Test
  void aFailedDeployExitsOneWithTheSupervisorsReason() {
    supervisor.answer(
        SPAWNED,
        new DeployEvent(DeployStep.FAILED, 3, 501, Duration.ofSeconds(30), "not ready in 30s"),
        new Reply.Failed("generation 3 was not ready within 30 s; generation 2 keeps serving"));

    var result = Cli.run("deploy", "-c", config);

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.errLines())
        .containsExactly(
            "baton: generation 3 was not ready within 30 s; generation 2 keeps serving");
    assertThat(result.outLines()).hasSize(2);
    assertThat(result.outLines().get(1)).startsWith("failed").endsWith("not ready in 30s");
  }

  @Test
  void jsonPrintsEachEventAndTheReplyAsProtocolLines() {
    supervisor.answer(SPAWNED, PROMOTED, new Reply.Done(3, 501));

    var result = Cli.run("deploy", "-c", config, "--json");

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(result.outLines().stream().map(Codec::decodeMessage))
        .containsExactly(SPAWNED, PROMOTED, new Reply.Done(3, 501));
    assertThat(result.outLines().getLast()).contains("\"ok\":true");
  }

  @Test
  void jsonOfAFailedDeployIsTheFailedReplyAndStillExitsOne() {
    supervisor.answer(new Reply.Failed("a deploy is already in progress"));

    var result = Cli.run("deploy", "-c", config, "--json");

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.outLines()).hasSize(1);
    assertThat(Codec.decodeMessage(result.outLines().getFirst()))
        .isEqualTo(new Reply.Failed("a deploy is already in progress"));
  }

  @Test
  void anEnvWithoutAnEqualsSignIsAUsageError() {
    var result = Cli.run("deploy", "-c", config, "--env", "FEATURE");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).contains("--env").contains("KEY=VALUE").contains("FEATURE");
    assertThat(supervisor.requests()).isEmpty();
  }

  @Test
  void anOptionOfTheAppBeforeTheDashesIsAnUnknownOption() {
    var result = Cli.run("deploy", "-c", config, "java", "-jar", "app.jar");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).isEqualTo("Unknown option: '-jar'");
    assertThat(supervisor.requests()).isEmpty();
  }
}
