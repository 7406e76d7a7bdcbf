package dev.baton.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Against the real kernel, on loopback: needs root, or CAP_BPF and CAP_NET_ADMIN, as CI has. */
class SteeringTest {
  private static final int BACKLOG = 64;

  private final Os os = Os.linux();
  private final List<Fd> listeners = new ArrayList<>();
  private final List<Socket> clients = new ArrayList<>();
  private final List<Steering> steerings = new ArrayList<>();

  @AfterEach
  void closeEverything() throws IOException {
    for (var client : clients) {
      client.close();
    }
    steerings.forEach(Steering::close);
    listeners.forEach(os::close);
  }

  private Fd listen(int port) {
    var fd =
        os.listen(
            new ListenAddress.Tcp(new InetSocketAddress("127.0.0.1", port), /* reusePort= */ true),
            BACKLOG);
    listeners.add(fd);
    return fd;
  }

  /** Closes a listener the test opened, before the test ends. */
  private void closeListener(Fd fd) {
    listeners.remove(fd);
    os.close(fd);
  }

  private Steering steering() {
    var steering = os.steering();
    steerings.add(steering);
    return steering;
  }

  /** {@code count} connections, each complete at the kernel: none is accepted. */
  private List<Socket> connect(int port, int count) {
    var made = new ArrayList<Socket>();
    for (int i = 0; i < count; i++) {
      try {
        var client = new Socket();
        clients.add(client);
        client.setSoTimeout(2000);
        client.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        made.add(client);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return made;
  }

  private int queued(Fd listener) {
    return os.acceptQueue(listener).orElseThrow().length();
  }

  /**
   * Waits until the group's queues hold {@code total} connections: connect returns once the client
   * has sent its ACK, and the listener may see that ACK a moment later.
   */
  private void awaitQueued(int total, Fd... group) {
    await()
        .atMost(Duration.ofSeconds(2))
        .pollInterval(Duration.ofMillis(1))
        .until(
            () -> {
              int sum = 0;
              for (var fd : group) {
                sum += queued(fd);
              }
              return sum == total;
            });
  }

  @Test
  void selectSendsEveryNewConnectionToTheSelectedListener() {
    var a = listen(0);
    int port = os.localAddress(a).getPort();
    var b = listen(port);
    var steering = steering();
    steering.attach(a);

    steering.select(a);
    connect(port, 20);
    awaitQueued(20, a, b);
    assertThat(queued(a)).isEqualTo(20);
    assertThat(queued(b)).isZero();

    steering.select(b);
    connect(port, 20);
    awaitQueued(40, a, b);
    assertThat(queued(a)).isEqualTo(20);
    assertThat(queued(b)).isEqualTo(20);
  }

  @Test
  void closingAListenerMigratesItsQueuedConnectionsToTheSelectedOne() throws IOException {
    var a = listen(0);
    int port = os.localAddress(a).getPort();
    var b = listen(port);
    var steering = steering();
    steering.attach(a);
    steering.select(a);
    var queuedOnA = connect(port, 10);
    for (int i = 0; i < queuedOnA.size(); i++) {
      queuedOnA.get(i).getOutputStream().write('0' + i); // waits in the connection, unaccepted
    }
    awaitQueued(10, a, b);
    assertThat(queued(a)).isEqualTo(10);

    steering.select(b);
    closeListener(a);

    assertThat(queued(b)).isEqualTo(10);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      var accepted = new SharedFd(Libc.accept4(b.value(), Libc.SOCK_CLOEXEC, "accept4(" + b + ")"));
      try (var in = new FdInputStream(accepted, /* ownsFd= */ true);
          var out = new FdOutputStream(accepted)) {
        int sent = in.read();
        seen.add(sent);
        out.write(sent);
      }
    }
    assertThat(seen).hasSize(10).allSatisfy(c -> assertThat(c).isBetween((int) '0', (int) '9'));
    for (int i = 0; i < queuedOnA.size(); i++) {
      // A reset connection would throw "Connection reset" here rather than echo its byte.
      assertThat(queuedOnA.get(i).getInputStream().read()).isEqualTo('0' + i);
    }
  }

  @Test
  void selectingASocketThatIsNotListeningThrowsNamingTheCall() {
    var a = listen(0);
    var steering = steering();
    steering.attach(a);
    int notListening =
        Libc.socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, "socket(AF_INET)");
    listeners.add(new Fd(notListening));

    assertThatThrownBy(() -> steering.select(new Fd(notListening)))
        .isInstanceOfSatisfying(
            NativeException.class,
            e -> {
              assertThat(e.call())
                  .isEqualTo("bpf(BPF_MAP_UPDATE_ELEM, slot 0 = fd=" + notListening + ")");
              assertThat(e.errnoName()).isEqualTo("EINVAL");
            })
        .hasMessageStartingWith("bpf(BPF_MAP_UPDATE_ELEM, slot 0 = fd=" + notListening + ")");
  }

  @Test
  void steeringIsAvailableToRoot() {
    assertThat(os.steeringUnavailable()).isEmpty();
  }

  @Test
  void aSecondSteeringAttachedToTheGroupTakesItOver() {
    var a = listen(0);
    int port = os.localAddress(a).getPort();
    var b = listen(port);
    var first = steering();
    first.attach(a);
    first.select(a);
    first.close(); // as a supervisor that exits: its program keeps steering to a
    connect(port, 5);
    awaitQueued(5, a, b);
    assertThat(queued(a)).isEqualTo(5);

    var second = steering();
    second.attach(b);
    second.select(b);
    connect(port, 5);
    awaitQueued(10, a, b);
    assertThat(queued(a)).isEqualTo(5);
    assertThat(queued(b)).isEqualTo(5);
  }

  @Test
  void aTakeoverSelectsTheListenerTheReplacedSteeringHeld() {
    var a = listen(0);
    int port = os.localAddress(a).getPort();
    var b = listen(port);
    var first = steering();
    first.attach(a);
    first.select(a);
    first.close();

    var second = steering();
    second.attach(a);
    second.select(a); // waits for the kernel to free the first map, which still holds a
    second.select(b);
    connect(port, 5);
    awaitQueued(5, a, b);
    assertThat(queued(b)).isEqualTo(5);

    second.select(a);
    connect(port, 5);
    awaitQueued(10, a, b);
    assertThat(queued(a)).isEqualTo(5);
  }

  @Test
  void selectingTheSelectedListenerAgainChangesNothing() {
    var a = listen(0);
    int port = os.localAddress(a).getPort();
    var b = listen(port);
    var steering = steering();
    steering.attach(a);
    steering.select(a);

    steering.select(a);

    connect(port, 5);
    awaitQueued(5, a, b);
    assertThat(queued(a)).isEqualTo(5);
  }

  @Test
  void aProgramTheVerifierRefusesThrowsWithTheVerifierLog() {
    int[] pipe = Libc.pipe("pipe2");
    try {
      // A pipe where the map should be: the verifier refuses the program's ld_imm64.
      assertThatThrownBy(() -> LibcBpf.loadSteeringProgram(pipe[0], "bpf(BPF_PROG_LOAD)"))
          .isInstanceOfSatisfying(
              NativeException.class, e -> assertThat(e.call()).isEqualTo("bpf(BPF_PROG_LOAD)"))
          .hasMessageStartingWith("bpf(BPF_PROG_LOAD) failed: ")
          .hasMessageContaining(
              "; verifier log: fd " + pipe[0] + " is not pointing to valid bpf_map");
    } finally {
      Libc.close(pipe[0]);
      Libc.close(pipe[1]);
    }
  }

  @Test
  void theVerifierLogsTailIsItsLastNonBlankLines() {
    assertThat(LibcBpf.lastLines("a\n\nb\nc\nd\n", 2)).isEqualTo("c | d");
    assertThat(LibcBpf.lastLines("", 2)).isEmpty();
  }
}
