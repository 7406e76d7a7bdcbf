package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.NativeException;
import dev.baton.os.UnixConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Accepting on the loop when the process is out of descriptors or memory. */
class AcceptorTest {
  private static final NativeException EMFILE =
      new NativeException("accept4", 24, "EMFILE", "Too many open files");

  private final ManualClock clock = new ManualClock(Harness.T0);
  private final FakeOs os = new FakeOs(clock);
  private final Loop loop = new Loop(os.poller(), clock, Runnable::run);
  private final Path path = Path.of("/run/test.sock");
  private final FakeSockets.Listener listener = (FakeSockets.Listener) os.listenUnix(path, 0600);
  private final List<UnixConnection> accepted = new ArrayList<>();

  private Acceptor acceptor(Consumer<UnixConnection> take) {
    var acceptor = new Acceptor(loop, listener, take);
    acceptor.start();
    return acceptor;
  }

  private FakeSockets.Connection connect() {
    return os.connect(path, 4242, FakeOs.UID);
  }

  private void advance(long millis) {
    clock.set(clock.instant().plusMillis(millis));
    loop.runOnce(0);
  }

  @Test
  void acceptFailingForWantOfDescriptorsStopsWatchingFor100MsInsteadOfSpinningThenAcceptsAgain() {
    acceptor(accepted::add);
    listener.failNextAccept = Optional.of(EMFILE);
    connect();
    loop.runOnce(0);
    assertThat(accepted).isEmpty();
    loop.runOnce(
        0); // still queued and the listener readable: a spinning acceptor would take it now
    assertThat(accepted).isEmpty();
    advance(99);
    assertThat(accepted).isEmpty();
    advance(1); // watched again
    loop.runOnce(0);
    assertThat(accepted).hasSize(1);
    assertThat(loop.caught()).isZero();
  }

  @Test
  void aConnectionItsHandlerCannotTakeIsClosedNotLeakedAndTheNextIsTakenAfterTheBackoff() {
    var first = new boolean[] {true};
    acceptor(
        connection -> {
          if (first[0]) {
            first[0] = false;
            throw new NativeException("epoll_ctl(ADD)", 12, "ENOMEM", "Cannot allocate memory");
          }
          accepted.add(connection);
        });
    int fds = os.openFds().size();
    var refused = connect();
    var next = connect();
    loop.runOnce(0);
    assertThat(refused.isClosedByPeer()).isTrue();
    assertThat(os.openFds()).hasSize(fds);
    assertThat(accepted).isEmpty();
    advance(100);
    loop.runOnce(0);
    assertThat(accepted).hasSize(1);
    assertThat(next.isClosedByPeer()).isFalse();
    assertThat(os.openFds()).hasSize(fds + 1);
    assertThat(os.violations).isEmpty();
  }

  @Test
  void aClosedAcceptorDoesNotWatchItsListenerAgainAfterTheBackoff() {
    var acceptor = acceptor(accepted::add);
    listener.failNextAccept = Optional.of(EMFILE);
    connect();
    loop.runOnce(0);
    acceptor.close();
    advance(Duration.ofSeconds(1).toMillis());
    assertThat(accepted).isEmpty();
    assertThat(listener.isClosed()).isTrue();
    assertThat(loop.caught()).isZero();
    assertThat(os.violations).isEmpty();
  }
}
