package dev.baton.os;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** acceptNow, readNow and writeNow on the control socket, and the blocking calls beside them. */
class NonBlockingSocketTest {
  private final Os os = Os.linux();

  @TempDir Path dir;

  private static boolean isNonBlocking(Fd fd) throws Exception {
    for (var line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd.value()))) {
      if (line.startsWith("flags:")) {
        return (Integer.parseInt(line.substring(6).strip(), 8) & LibcEvents.O_NONBLOCK) != 0;
      }
    }
    throw new AssertionError("no flags in fdinfo of " + fd);
  }

  @Test
  void acceptNowIsEmptyUntilAClientConnectsAndThenHasItsCredentials() throws Exception {
    try (var listener = os.listenUnix(dir.resolve("control.sock"), 0600)) {
      assertThat(listener.acceptNow()).isEmpty();

      try (var client = os.connectUnix(listener.path());
          var server = listener.acceptNow().orElseThrow()) {
        assertThat(server.peer().pid()).isEqualTo(os.pid());
        assertThat(server.peer().uid()).isEqualTo(os.uid());
        assertThat(isNonBlocking(server.fd())).as("accepted non-blocking").isTrue();
        assertThat(client.peer().pid()).isEqualTo(os.pid());
      }
      assertThat(listener.acceptNow()).isEmpty();
    }
  }

  @Test
  void aPollerReportsAQueuedConnection() {
    try (var listener = os.listenUnix(dir.resolve("control.sock"), 0600);
        var poller = os.poller()) {
      poller.watch(listener.fd(), Poller.READABLE, 1);
      var tokens = new long[2];
      var events = new int[2];
      assertThat(poller.poll(tokens, events, 0)).isZero();

      try (var client = os.connectUnix(listener.path())) {
        assertThat(poller.poll(tokens, events, 10_000)).isEqualTo(1);
        assertThat(tokens[0]).isEqualTo(1);
        try (var server = listener.acceptNow().orElseThrow()) {
          assertThat(server.peer().pid()).isEqualTo(os.pid());
        }
      }
      poller.unwatch(listener.fd());
    }
  }

  @Test
  void readNowReturnsZeroUntilDataAndMinusOneAtEndOfStream() throws Exception {
    try (var listener = os.listenUnix(dir.resolve("control.sock"), 0600);
        var client = os.connectUnix(listener.path());
        var server = listener.acceptNow().orElseThrow()) {
      var buffer = new byte[16];
      assertThat(server.readNow(buffer, 0, buffer.length)).as("nothing yet").isZero();

      client.output().write("status\n".getBytes(UTF_8));

      assertThat(server.readNow(buffer, 2, 10)).isEqualTo(7);
      assertThat(new String(buffer, 2, 7, UTF_8)).isEqualTo("status\n");
      assertThat(server.readNow(buffer, 0, buffer.length)).isZero();
      client.output().close(); // half-close: EOF for the server
      assertThat(server.readNow(buffer, 0, buffer.length)).isEqualTo(-1);
      assertThat(server.readNow(buffer, 0, 0)).as("no room: nothing read").isZero();
    }
  }

  /** Closing with unread data makes the kernel reset the peer (ECONNRESET): gone, like EOF. */
  @Test
  void readNowAfterAResetReturnsMinusOne() {
    try (var listener = os.listenUnix(dir.resolve("control.sock"), 0600);
        var client = os.connectUnix(listener.path());
        var server = listener.acceptNow().orElseThrow()) {
      assertThat(server.writeNow(new byte[] {1, 2, 3}, 0, 3)).isEqualTo(3);
      client.close(); // never read what the server sent

      assertThat(server.readNow(new byte[8], 0, 8)).isEqualTo(-1);
    }
  }

  @Test
  void writeNowTakesWhatFitsThenZeroUntilThePeerReads() throws Exception {
    try (var listener = os.listenUnix(dir.resolve("control.sock"), 0600);
        var client = os.connectUnix(listener.path());
        var server = listener.acceptNow().orElseThrow()) {
      var chunk = new byte[64 * 1024];
      long written = 0;
      int taken;
      int writes = 0;
      while ((taken = server.writeNow(chunk, 0, chunk.length)) > 0) {
        written += taken;
        assertThat(++writes).as("the socket buffer never filled").isLessThan(10_000);
      }
      assertThat(written).isPositive();

      var drained = new byte[64 * 1024];
      for (long read = 0; read < written; ) {
        read += client.input().read(drained);
      }
      assertThat(server.writeNow(chunk, 0, 1)).as("room again").isEqualTo(1);
    }
  }

  @Test
  void writeNowToAClosedPeerThrowsEpipe() throws Exception {
    try (var listener = os.listenUnix(dir.resolve("control.sock"), 0600);
        var client = os.connectUnix(listener.path())) {
      var server = listener.acceptNow().orElseThrow();
      client.close();

      assertThatThrownBy(
              () -> {
                for (int i = 0; i < 100; i++) {
                  server.writeNow(new byte[4096], 0, 4096);
                }
              })
          .isInstanceOfSatisfying(
              NativeException.class,
              e -> {
                assertThat(e.errnoName()).isIn("EPIPE", "ECONNRESET");
                assertThat(e.call()).startsWith("send(fd=");
              });
      server.close();
      assertThatThrownBy(() -> server.writeNow(new byte[1], 0, 1))
          .isInstanceOfSatisfying(
              NativeException.class, e -> assertThat(e.errnoName()).isEqualTo("EBADF"));
      assertThat(server.readNow(new byte[1], 0, 1)).as("closed: end of stream").isEqualTo(-1);
    }
  }

  /** A connection from acceptNow is non-blocking; its blocking calls wait in poll(2) instead. */
  @Test
  void theBlockingCallsStillWorkOnANonBlockingConnection() throws Exception {
    try (var listener = os.listenUnix(dir.resolve("control.sock"), 0600);
        var client = os.connectUnix(listener.path());
        var server = listener.acceptNow().orElseThrow()) {
      var big = new byte[4 << 20]; // far more than the socket buffer: the write must wait
      Arrays.fill(big, (byte) 'x');
      var reader = CompletableFuture.supplyAsync(() -> readAll(client));

      server.output().write(big);
      server.output().close();

      assertThat(reader.get(30, TimeUnit.SECONDS)).isEqualTo(big.length);
      var received = CompletableFuture.supplyAsync(() -> server.receive(new byte[8]));
      client.send("hi".getBytes(UTF_8), List.of());
      assertThat(received.get(30, TimeUnit.SECONDS).bytes()).isEqualTo(2);
    }
  }

  private static long readAll(UnixConnection connection) {
    try {
      long total = 0;
      var buffer = new byte[64 * 1024];
      int n;
      while ((n = connection.input().read(buffer)) != -1) {
        total += n;
      }
      return total;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
