package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.Codec;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import org.junit.jupiter.api.Test;

/** {@code baton stop}. */
class StopCommandTest extends AgainstFakeSupervisor {
  @Test
  void asksTheSupervisorToStopAndSaysItDid() {
    supervisor.answer(new Reply.Ok());

    var result = Cli.run("stop", "-c", config);

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(supervisor.request()).isEqualTo(new Request.Stop());
    assertThat(result.outLines()).containsExactly("stopped");
  }

  @Test
  void jsonIsTheReplyAlone() {
    supervisor.answer(new Reply.Ok());

    var result = Cli.run("stop", "-c", config, "--json");

    assertThat(result.status()).isZero();
    assertThat(result.outLines()).containsExactly("{\"ok\":true}");
    assertThat(Codec.decodeMessage(result.out().strip())).isEqualTo(new Reply.Ok());
  }

  @Test
  void aRefusalExitsOneAndDoesNotSayStopped() {
    supervisor.answer(new Reply.Failed("already stopping"));

    var result = Cli.run("stop", "-c", config);

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.errLines()).containsExactly("baton: already stopping");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void jsonOfARefusal() {
    supervisor.answer(new Reply.Failed("already stopping"));

    var result = Cli.run("stop", "-c", config, "--json");

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(Codec.decodeMessage(result.out().strip()))
        .isEqualTo(new Reply.Failed("already stopping"));
  }
}
