package dev.baton.os;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketTest {
  private final Os os = Os.linux();

  @TempDir Path dir;

  /** Runs {@code task} on a platform thread: it blocks in native code. */
  private static <T> CompletableFuture<T> onPlatformThread(java.util.function.Supplier<T> task) {
    var result = new CompletableFuture<T>();
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try {
                result.complete(task.get());
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
    return result;
  }

  @Test
  void listenerFileHasExactlyTheRequestedMode() throws Exception {
    var path = dir.resolve("control.sock");

    try (var listener = os.listenUnix(path, 0600)) {
      assertThat(listener.path()).isEqualTo(path);
      assertThat(Files.getPosixFilePermissions(path))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }
  }

  @Test
  void aWideModeIsNarrowedByTheUmaskAsBindCreatesTheFile() throws Exception {
    // bind(2) creates the file with the socket's mode less the umask: never wider than asked.
    var path = dir.resolve("shared.sock");

    try (var listener = os.listenUnix(path, 0666)) {
      assertThat(listener.path()).isEqualTo(path);
      assertThat(PosixFilePermissions.fromString("rw-rw-rw-"))
          .containsAll(Files.getPosixFilePermissions(path));
      assertThat(Files.getPosixFilePermissions(path))
          .contains(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }
  }

  @Test
  void peerCredentialsOfAConnectionFromThisJvmAreOurs() throws Exception {
    var path = dir.resolve("control.sock");
    try (var listener = os.listenUnix(path, 0600);
        var client = os.connectUnix(path);
        var server = listener.accept().orElseThrow()) {
      assertThat(server.peer().pid()).isEqualTo(os.pid());
      assertThat(server.peer().uid()).isEqualTo(os.uid());
      assertThat(client.peer().pid()).isEqualTo(os.pid());
    }
  }

  @Test
  void bytesWrittenOnOneSideAreReadOnTheOtherUntilHalfClose() throws Exception {
    var path = dir.resolve("control.sock");
    try (var listener = os.listenUnix(path, 0600);
        var client = os.connectUnix(path);
        var server = listener.accept().orElseThrow()) {
      client.output().write("status\n".getBytes(UTF_8));
      client.output().close(); // half-close: the server reads EOF

      assertThat(new String(server.input().readAllBytes(), UTF_8)).isEqualTo("status\n");
      server.output().write("ok\n".getBytes(UTF_8));
      server.output().close();
      assertThat(new String(client.input().readAllBytes(), UTF_8)).isEqualTo("ok\n");
    }
  }

  @Test
  void writingToAConnectionWhosePeerIsGoneThrowsEpipe() throws Exception {
    var path = dir.resolve("control.sock");
    try (var listener = os.listenUnix(path, 0600);
        var client = os.connectUnix(path)) {
      listener.accept().orElseThrow().close();

      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 100; i++) {
                  client.output().write(new byte[4096]);
                }
              })
          .isInstanceOf(IOException.class)
          .hasMessageContaining("EPIPE");
    }
  }

  @Test
  void scmRightsPassesAListenerThatStillWorksAfterTheOriginalIsClosed() throws Exception {
    var path = dir.resolve("control.sock");
    var tcp = os.listen(ListenAddress.parse("127.0.0.1:0", false), 16);
    int port = os.localAddress(tcp).getPort();
    try (var listener = os.listenUnix(path, 0600);
        var client = os.connectUnix(path);
        var server = listener.accept().orElseThrow()) {
      client.send("L".getBytes(UTF_8), List.of(tcp));
      os.close(tcp); // only the received copy keeps the socket open now

      var buffer = new byte[16];
      var received = server.receive(buffer);

      assertThat(received.bytes()).isEqualTo(1);
      assertThat(buffer[0]).isEqualTo((byte) 'L');
      assertThat(received.fds()).hasSize(1);
      var passed = received.fds().getFirst();
      try (var socket = new Socket("127.0.0.1", port)) {
        assertThat(socket.isConnected()).isTrue();
        int accepted = Libc.accept4(passed.value(), Libc.SOCK_CLOEXEC, "accept4");
        Libc.close(accepted);
      } finally {
        os.close(passed);
      }
    }
  }

  @Test
  void receivedDescriptorsAreCloseOnExec() throws Exception {
    var path = dir.resolve("control.sock");
    var tcp = os.listen(ListenAddress.parse("127.0.0.1:0", false), 16);
    try (var listener = os.listenUnix(path, 0600);
        var client = os.connectUnix(path);
        var server = listener.accept().orElseThrow()) {
      client.send(new byte[] {1}, List.of(tcp, tcp));
      os.close(tcp);

      var received = server.receive(new byte[1]);

      assertThat(received.fds()).hasSize(2);
      for (var fd : received.fds()) {
        var fdinfo = Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd.value()));
        int flags = Integer.parseInt(fdinfo.get(1).replace("flags:", "").strip(), 8);
        assertThat(flags & Libc.O_CLOEXEC).as("O_CLOEXEC of " + fd).isNotZero();
        os.close(fd);
      }
    }
  }

  @Test
  void receiveWithoutDescriptorsReturnsNone() throws Exception {
    var path = dir.resolve("control.sock");
    try (var listener = os.listenUnix(path, 0600);
        var client = os.connectUnix(path);
        var server = listener.accept().orElseThrow()) {
      client.send("hello".getBytes(UTF_8), List.of());

      var buffer = new byte[64];
      var received = server.receive(buffer);

      assertThat(new String(buffer, 0, received.bytes(), UTF_8)).isEqualTo("hello");
      assertThat(received.fds()).isEmpty();
    }
  }

  @Test
  void closingTheListenerWakesABlockedAcceptAndRemovesTheFile() throws Exception {
    var path = dir.resolve("control.sock");
    var listener = os.listenUnix(path, 0600);
    var accepted = onPlatformThread(listener::accept);
    Thread.sleep(200); // let accept block

    listener.close();

    assertThat(accepted.get(5, TimeUnit.SECONDS)).isEmpty();
    assertThat(path).doesNotExist();
    assertThat(listener.accept()).isEmpty();
  }

  @Test
  void closingAConnectionWakesABlockedReceive() throws Exception {
    var path = dir.resolve("control.sock");
    try (var listener = os.listenUnix(path, 0600);
        var client = os.connectUnix(path)) {
      var server = listener.accept().orElseThrow();
      var received = onPlatformThread(() -> server.receive(new byte[8]));
      Thread.sleep(200);

      server.close();

      assertThat(received.get(5, TimeUnit.SECONDS).bytes()).isZero();
      assertThat(client.receive(new byte[8]).bytes()).as("the client reads EOF").isZero();
    }
  }

  @Test
  void aStaleSocketFileLeftByADeadProcessIsReplaced() throws Exception {
    var path = dir.resolve("control.sock");
    int orphan = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM, "socket");
    try (var arena = Arena.ofConfined()) {
      Libc.bind(orphan, Sockaddr.unix(arena, path.toString()), "bind");
    }
    Libc.close(orphan); // the file stays, as after a crash

    try (var listener = os.listenUnix(path, 0600);
        var client = os.connectUnix(path)) {
      assertThat(client.peer().pid()).isEqualTo(os.pid());
      assertThat(listener.accept()).isPresent();
    }
  }

  @Test
  void aSocketSomeoneStillListensOnIsNotTakenOver() throws Exception {
    var path = dir.resolve("control.sock");
    try (var first = os.listenUnix(path, 0600)) {
      assertThatThrownBy(() -> os.listenUnix(path, 0600))
          .isInstanceOfSatisfying(
              NativeException.class, e -> assertThat(e.errnoName()).isEqualTo("EADDRINUSE"))
          .hasMessageContaining(path.toString());

      first.accept().orElseThrow().close(); // the probe's; the first listener still works
      try (var client = os.connectUnix(path)) {
        assertThat(client.peer().pid()).isEqualTo(os.pid());
        assertThat(first.accept()).isPresent();
      }
    }
  }

  @Test
  void aRegularFileInTheWayIsNeverRemoved() throws Exception {
    var path = dir.resolve("not-a-socket");
    Files.writeString(path, "precious");

    assertThatThrownBy(() -> os.listenUnix(path, 0600))
        .isInstanceOfSatisfying(
            NativeException.class, e -> assertThat(e.errnoName()).isEqualTo("EADDRINUSE"));
    assertThat(path).hasContent("precious");
  }

  @Test
  void connectingToAMissingSocketThrowsEnoentNamingThePath() {
    var path = dir.resolve("missing.sock");

    assertThatThrownBy(() -> os.connectUnix(path))
        .isInstanceOf(NativeException.class)
        .hasMessage("connect(unix:" + path + ") failed: ENOENT (No such file or directory)");
  }

  @Test
  void listenAddressCanBeAUnixPath() throws Exception {
    var path = dir.resolve("app.sock");
    var fd = os.listen(ListenAddress.parse("unix:" + path, false), 16);
    try (var client = os.connectUnix(path)) {
      assertThat(client.peer().pid()).isEqualTo(os.pid());
      Libc.close(Libc.accept4(fd.value(), Libc.SOCK_CLOEXEC, "accept4"));
    } finally {
      os.close(fd);
    }
  }
}
