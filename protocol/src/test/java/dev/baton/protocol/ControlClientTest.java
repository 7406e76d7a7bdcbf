package dev.baton.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a one-connection fake supervisor that answers with lines given in advance. */
class ControlClientTest {
  @TempDir Path dir;

  /** Serves one connection: reads the request line, sends {@code lines}, hangs up. */
  private CompletableFuture<String> supervisor(Path socket, String... lines) throws IOException {
    var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    var request = new CompletableFuture<String>();
    Thread.ofVirtual()
        .start(
            () -> {
              try (server;
                  var connection = server.accept()) {
                var in =
                    new BufferedReader(
                        new InputStreamReader(
                            Channels.newInputStream(connection), StandardCharsets.UTF_8));
                request.complete(in.readLine());
                var out = Channels.newOutputStream(connection);
                for (var line : lines) {
                  out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                }
              } catch (IOException e) {
                request.completeExceptionally(e);
              }
            });
    return request;
  }

  @Test
  void eventsArriveInOrderAndTheReplyEndsTheCall() throws Exception {
    var socket = dir.resolve("baton.sock");
    var spawned =
        new DeployEvent(DeployStep.SPAWNED, 2, 200, Duration.ofMillis(3), "./server --v2");
    var promoted =
        new DeployEvent(
            DeployStep.PROMOTED, 2, 200, Duration.ofMillis(250), "replaces generation 1");
    var sent =
        supervisor(
            socket,
            Codec.encode(spawned),
            Codec.encode(promoted),
            Codec.encode(new Reply.Done(2, 200)));
    var events = new ArrayList<DeployEvent>();

    var deploy = new Request.Deploy(Optional.of(List.of("./server", "--v2")), Map.of(), true);
    var reply = new ControlClient(socket).call(deploy, events::add);

    assertThat(Codec.decodeRequest(sent.join())).isEqualTo(deploy);
    assertThat(events).containsExactly(spawned, promoted);
    assertThat(reply).isEqualTo(new Reply.Done(2, 200));
  }

  @Test
  void aRefusalIsReturnedNotThrown() throws Exception {
    var socket = dir.resolve("baton.sock");
    supervisor(socket, Codec.encode(new Reply.Failed("a deploy is already in progress")));
    assertThat(
            new ControlClient(socket).call(new Request.Rollback(Optional.empty(), false), e -> {}))
        .isEqualTo(new Reply.Failed("a deploy is already in progress"));
  }

  @Test
  void anUpgradeIsConfirmedByTheConnectionClosingAtTheExec() throws Exception {
    var socket = dir.resolve("baton.sock");
    supervisor(socket, Codec.encode(new Reply.Upgrading(500)));
    assertThat(new ControlClient(socket).call(new Request.Upgrade(), e -> {}))
        .isEqualTo(new Reply.Upgrading(500));
  }

  @Test
  void anUpgradeWhoseExecFailedIsReportedAsTheFailureThatFollows() throws Exception {
    var socket = dir.resolve("baton.sock");
    supervisor(
        socket,
        Codec.encode(new Reply.Upgrading(500)),
        Codec.encode(new Reply.Failed("upgrade failed: ENOENT")));
    assertThat(new ControlClient(socket).call(new Request.Upgrade(), e -> {}))
        .isEqualTo(new Reply.Failed("upgrade failed: ENOENT"));
  }

  @Test
  void noSocketSaysHowToStartASupervisor() {
    assertThatThrownBy(
            () ->
                new ControlClient(dir.resolve("none.sock")).call(new Request.GetStatus(), e -> {}))
        .isInstanceOf(ControlClient.ControlException.class)
        .hasMessageContaining(
            "the control socket does not exist; start one with 'baton run -c CONFIG'");
  }

  @Test
  void aSocketNobodyListensOnIsCalledStale() throws Exception {
    var socket = dir.resolve("baton.sock");
    try (var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(Files.exists(socket)).isTrue();
    assertThatThrownBy(() -> new ControlClient(socket).call(new Request.GetStatus(), e -> {}))
        .isInstanceOf(ControlClient.ControlException.class)
        .hasMessageContaining("(stale socket file)");
  }

  @Test
  void hangingUpWithoutAReplySaysToCheckTheLog() throws Exception {
    var socket = dir.resolve("baton.sock");
    supervisor(
        socket, Codec.encode(new DeployEvent(DeployStep.SPAWNED, 2, 200, Duration.ZERO, "")));
    assertThatThrownBy(
            () ->
                new ControlClient(socket)
                    .call(new Request.Deploy(Optional.empty(), Map.of(), false), e -> {}))
        .isInstanceOf(ControlClient.ControlException.class)
        .hasMessage(
            "the supervisor at "
                + socket
                + " closed the connection without a reply; check its log");
  }

  @Test
  void somethingElseOnTheSocketIsNamed() throws Exception {
    var socket = dir.resolve("baton.sock");
    supervisor(socket, "SSH-2.0-OpenSSH_9.6");
    assertThatThrownBy(() -> new ControlClient(socket).call(new Request.GetStatus(), e -> {}))
        .isInstanceOf(ControlClient.ControlException.class)
        .hasMessageStartingWith(
            "the supervisor at " + socket + " answered with not a line of baton's control protocol")
        .hasMessageContaining("SSH-2.0-OpenSSH_9.6");
  }
}
