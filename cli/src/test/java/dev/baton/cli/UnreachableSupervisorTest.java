package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every command that talks to a supervisor exits 3 when none answers at the config's socket. */
class UnreachableSupervisorTest {
  @TempDir Path dir;
  private Path config;
  private Path socket;

  @BeforeEach
  void writeConfig() {
    config = Cli.config(dir);
    socket = dir.resolve("baton.sock");
  }

  private Cli.Result run(String line) {
    var args = new ArrayList<>(List.of(line.split(" ")));
    args.add(1, "-c");
    args.add(2, config.toString());
    return Cli.run(args.toArray(String[]::new));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "deploy",
        "deploy --json -- ./server",
        "rollback",
        "status",
        "status --json",
        "stop",
        "upgrade",
        "logs --reopen"
      })
  void noSocketFile(String line) {
    var result = run(line);

    assertThat(result.status()).as(result.toString()).isEqualTo(Main.UNREACHABLE);
    assertThat(result.errLines())
        .containsExactly(
            "baton: no supervisor at "
                + socket
                + ": the control socket does not exist; start one with 'baton run -c CONFIG' or"
                + " pass the right -c");
    assertThat(result.out()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy", "rollback", "status", "stop", "upgrade", "logs --reopen"})
  void aStaleSocketFile(String line) throws Exception {
    try (var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(Files.exists(socket)).isTrue();

    var result = run(line);

    assertThat(result.status()).as(result.toString()).isEqualTo(Main.UNREACHABLE);
    assertThat(result.errLines())
        .containsExactly(
            "baton: no supervisor is listening on "
                + socket
                + " (stale socket file); start one with 'baton run -c CONFIG'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy", "rollback", "status", "stop", "upgrade", "logs --reopen"})
  void aSupervisorThatHangsUpWithoutAReply(String line) throws Exception {
    try (var supervisor = FakeSupervisor.at(socket)) {
      supervisor.answer();

      var result = run(line);

      assertThat(result.status()).as(result.toString()).isEqualTo(Main.UNREACHABLE);
      assertThat(result.error()).contains("closed the connection without a reply");
      assertThat(supervisor.requests()).hasSize(1);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy", "rollback", "status", "stop", "upgrade", "logs --reopen"})
  void somethingElseAtTheSocket(String line) throws Exception {
    try (var supervisor = FakeSupervisor.at(socket)) {
      supervisor.answer("HTTP/1.1 400 Bad Request");

      var result = run(line);

      assertThat(result.status()).as(result.toString()).isEqualTo(Main.UNREACHABLE);
      assertThat(result.error())
          .startsWith("baton: the supervisor at " + socket + " answered with not a line of")
          .contains("HTTP/1.1 400 Bad Request");
    }
  }
}
