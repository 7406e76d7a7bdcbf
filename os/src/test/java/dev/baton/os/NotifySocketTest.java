package dev.baton.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotifySocketTest {
  private final Os os = Os.linux();

  @TempDir Path dir;

  /** receive() blocks in native code, so it gets a platform thread. */
  private static CompletableFuture<Optional<NotifyMessage>> receive(NotifySocket socket) {
    var result = new CompletableFuture<Optional<NotifyMessage>>();
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try {
                result.complete(socket.receive());
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
    return result;
  }

  @Test
  void receivesReadyFromAChildAndKnowsItsPid() throws Exception {
    var path = dir.resolve("notify.sock");
    var script =
        """
        import os, socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"READY=1\\nSTATUS=up", os.environ["NOTIFY_SOCKET"])
        """;
    try (var notify = os.openNotifySocket(path)) {
      var env =
          Map.of(
              "PATH",
              System.getenv("PATH"),
              "HOME",
              System.getProperty("user.home"),
              "NOTIFY_SOCKET",
              path.toString());

      var child =
          os.spawn(
              new SpawnSpec(
                  List.of("python3", "-c", script), env, dir, Optional.empty(), List.of()));

      var message = notify.receive().orElseThrow();
      assertThat(message.pid()).isEqualTo(child.pid());
      assertThat(message.uid()).isEqualTo(os.uid());
      assertThat(message.fields())
          .containsExactly(Map.entry("READY", "1"), Map.entry("STATUS", "up"));
      assertThat(Reaping.awaitExit(child).success()).isTrue();
    }
  }

  @Test
  void receiveNowFindsAChildsReadyThroughAPollerWithItsPid() throws Exception {
    var path = dir.resolve("notify.sock");
    var script =
        """
        import os, socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
        """;
    try (var notify = os.openNotifySocket(path);
        var poller = os.poller()) {
      assertThat(notify.receiveNow()).as("nothing queued").isEmpty();
      poller.watch(notify.fd(), Poller.READABLE, 3);
      var env = Map.of("PATH", System.getenv("PATH"), "NOTIFY_SOCKET", path.toString());

      var child =
          os.spawn(
              new SpawnSpec(
                  List.of("python3", "-c", script), env, dir, Optional.empty(), List.of()));

      try {
        var tokens = new long[1];
        assertThat(poller.poll(tokens, new int[1], 30_000)).isEqualTo(1);
        assertThat(tokens[0]).isEqualTo(3);
        var message = notify.receiveNow().orElseThrow();
        assertThat(message.pid()).isEqualTo(child.pid());
        assertThat(message.uid()).isEqualTo(os.uid());
        assertThat(message.text()).isEqualTo("READY=1");
        assertThat(notify.receiveNow()).isEmpty();
      } finally {
        child.signal(Signal.KILL);
        Reaping.awaitExit(child);
      }
    }
  }

  @Test
  void receiveNowTakesQueuedDatagramsInOrder() {
    var path = dir.resolve("notify.sock");
    try (var notify = os.openNotifySocket(path)) {
      os.sendNotify(path.toString(), "STATUS=one");
      os.sendNotify(path.toString(), "STATUS=two");

      assertThat(notify.receiveNow().orElseThrow().text()).isEqualTo("STATUS=one");
      var second = notify.receiveNow().orElseThrow();
      assertThat(second.text()).isEqualTo("STATUS=two");
      assertThat(second.pid()).isEqualTo(os.pid());
      assertThat(notify.receiveNow()).isEmpty();
    }
  }

  @Test
  void sendNotifyReachesANotifySocketAtAPath() {
    var path = dir.resolve("notify.sock");
    try (var notify = os.openNotifySocket(path)) {
      os.sendNotify(path.toString(), "STOPPING=1");

      var message = notify.receive().orElseThrow();
      assertThat(message.text()).isEqualTo("STOPPING=1");
      assertThat(message.pid()).isEqualTo(os.pid());
    }
  }

  @Test
  void sendNotifyReachesANotifySocketInTheAbstractNamespace() {
    var name = "@baton-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    try (var notify = os.openNotifySocket(Path.of(name))) {
      os.sendNotify(name, "READY=1");

      assertThat(notify.receive().orElseThrow().text()).isEqualTo("READY=1");
    }
  }

  @Test
  void closingWakesAThreadBlockedInReceive() throws Exception {
    var path = dir.resolve("notify.sock");
    var notify = os.openNotifySocket(path);
    var received = receive(notify);
    Thread.sleep(200); // let receive block in recvmsg

    notify.close();

    assertThat(received.get(5, TimeUnit.SECONDS)).isEmpty();
    assertThat(notify.receive()).isEmpty();
    assertThat(path).doesNotExist();
  }

  @Test
  void aStaleNotifySocketFileIsReplaced() {
    var path = dir.resolve("notify.sock");
    int orphan = Libc.socket(Libc.AF_UNIX, Libc.SOCK_DGRAM, "socket");
    try (var arena = Arena.ofConfined()) {
      Libc.bind(orphan, Sockaddr.unix(arena, path.toString()), "bind");
    }
    Libc.close(orphan); // the file stays, as after a crash

    try (var notify = os.openNotifySocket(path)) {
      os.sendNotify(path.toString(), "READY=1");
      assertThat(notify.receive().orElseThrow().text()).isEqualTo("READY=1");
    }
  }

  @Test
  void aNotifySocketInUseIsNotTakenOver() {
    var path = dir.resolve("notify.sock");
    try (var first = os.openNotifySocket(path)) {
      assertThatThrownBy(() -> os.openNotifySocket(path))
          .isInstanceOfSatisfying(
              NativeException.class, e -> assertThat(e.errnoName()).isEqualTo("EADDRINUSE"));

      os.sendNotify(path.toString(), "READY=1");
      assertThat(first.receive().orElseThrow().text()).isEqualTo("READY=1");
    }
  }
}
