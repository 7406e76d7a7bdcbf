package dev.baton.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The epoll set, on real pipes. */
class PollerTest {
  private final Poller poller = Os.linux().poller();
  private final List<Integer> fds = new ArrayList<>();
  private final long[] tokens = new long[8];
  private final int[] events = new int[8];

  @AfterEach
  void closeEverything() {
    poller.close();
    fds.forEach(Libc::close);
  }

  /** A pipe: {read end, write end}; closed after the test unless closed by it. */
  private int[] pipe() {
    int[] pipe = Libc.pipe("pipe2");
    fds.add(pipe[0]);
    fds.add(pipe[1]);
    return pipe;
  }

  private void closeNow(int fd) {
    fds.remove(Integer.valueOf(fd));
    Libc.close(fd);
  }

  private static void write(int fd, String text) {
    try (var arena = Arena.ofConfined()) {
      var data = arena.allocateFrom(text);
      LibcEvents.writeNow(fd, data, text.length(), "write");
    }
  }

  @Test
  void aReadablePipeIsReportedWithItsToken() {
    int[] pipe = pipe();
    poller.watch(new Fd(pipe[0]), Poller.READABLE, 7);
    assertThat(poller.poll(tokens, events, 0)).as("empty pipe").isZero();

    write(pipe[1], "x");

    assertThat(poller.poll(tokens, events, 10_000)).isEqualTo(1);
    assertThat(tokens[0]).isEqualTo(7);
    assertThat(events[0]).isEqualTo(Poller.READABLE);
    assertThat(poller.poll(tokens, events, 0)).as("level-triggered: still unread").isEqualTo(1);
  }

  @Test
  void aPipeWithRoomIsWritable() {
    int[] pipe = pipe();
    poller.watch(new Fd(pipe[1]), Poller.WRITABLE, -3);

    assertThat(poller.poll(tokens, events, 10_000)).isEqualTo(1);
    assertThat(tokens[0]).isEqualTo(-3);
    assertThat(events[0]).isEqualTo(Poller.WRITABLE);
  }

  @Test
  void watchingAgainReplacesTheInterestAndTheToken() {
    int[] pipe = pipe();
    write(pipe[1], "x");
    poller.watch(new Fd(pipe[0]), Poller.READABLE, 1);
    poller.watch(new Fd(pipe[0]), Poller.READABLE | Poller.WRITABLE, 2);

    assertThat(poller.poll(tokens, events, 10_000)).isEqualTo(1);
    assertThat(tokens[0]).isEqualTo(2);
  }

  @Test
  void aHangUpIsReportedAsReadableAndWritable() {
    int[] pipe = pipe();
    poller.watch(new Fd(pipe[0]), Poller.READABLE, 5);

    closeNow(pipe[1]);

    assertThat(poller.poll(tokens, events, 10_000)).isEqualTo(1);
    assertThat(tokens[0]).isEqualTo(5);
    assertThat(events[0]).isEqualTo(Poller.READABLE | Poller.WRITABLE);
  }

  /**
   * epoll reports EPOLLHUP whatever the interest; with none, the poller must not, or loops spin.
   */
  @Test
  void noInterestReportsNothingNotEvenAHangUpUntilWatchedAgain() {
    int[] pipe = pipe();
    poller.watch(new Fd(pipe[0]), Poller.READABLE, 5);
    poller.watch(new Fd(pipe[0]), 0, 5);
    closeNow(pipe[1]);

    assertThat(poller.poll(tokens, events, 50)).isZero();

    poller.watch(new Fd(pipe[0]), Poller.READABLE, 6);
    assertThat(poller.poll(tokens, events, 10_000)).isEqualTo(1);
    assertThat(tokens[0]).isEqualTo(6);
  }

  @Test
  void anUnwatchedDescriptorIsNoLongerReported() {
    int[] pipe = pipe();
    write(pipe[1], "x");
    poller.watch(new Fd(pipe[0]), Poller.READABLE, 1);

    poller.unwatch(new Fd(pipe[0]));

    assertThat(poller.poll(tokens, events, 0)).isZero();
    poller.unwatch(new Fd(pipe[0])); // a no-op, as for any descriptor never watched
    poller.unwatch(new Fd(pipe[1]));
  }

  @Test
  void aTimeoutReturnsZero() {
    int[] pipe = pipe();
    poller.watch(new Fd(pipe[0]), Poller.READABLE, 1);

    assertThat(poller.poll(tokens, events, 20)).isZero();
  }

  @Test
  void wakeupFromAnotherThreadEndsAPollWithoutALimit() throws Exception {
    int[] pipe = pipe();
    poller.watch(new Fd(pipe[0]), Poller.READABLE, 1);
    var waker =
        CompletableFuture.runAsync(
            () -> {
              sleep(Duration.ofMillis(200)); // most likely inside epoll_wait by then; either works
              poller.wakeup();
            });

    var polled = CompletableFuture.supplyAsync(() -> poller.poll(tokens, events, -1));

    assertThat(polled.get(30, TimeUnit.SECONDS)).as("a wake-up reports no token").isZero();
    waker.get(30, TimeUnit.SECONDS);
  }

  @Test
  void wakeupsBeforeAPollAreOneAndConsumedByIt() {
    poller.wakeup();
    poller.wakeup();
    poller.wakeup();

    assertThat(poller.poll(tokens, events, 30_000)).isZero();
    assertThat(poller.poll(tokens, events, 20)).as("nothing left to wake").isZero();

    poller.wakeup();
    assertThat(poller.poll(tokens, events, 30_000)).isZero();
  }

  @Test
  void moreReadyThanRoomAreReportedOverSeveralPolls() {
    var seen = new ArrayList<Long>();
    for (long token = 0; token < 12; token++) {
      int[] pipe = pipe();
      write(pipe[1], "x");
      poller.watch(new Fd(pipe[0]), Poller.READABLE, token);
    }
    var few = new long[5];
    var fewEvents = new int[5];

    int first = poller.poll(few, fewEvents, 10_000);

    assertThat(first).isEqualTo(5);
    for (int i = 0; i < first; i++) {
      seen.add(few[i]);
    }
    assertThat(seen).doesNotHaveDuplicates();
    // epoll(7): successive waits round-robin through the ready descriptors.
    for (int round = 0; round < 2; round++) {
      int n = poller.poll(few, fewEvents, 10_000);
      for (int i = 0; i < n; i++) {
        seen.add(few[i]);
      }
    }
    assertThat(new java.util.TreeSet<>(seen)).hasSize(12).allMatch(t -> t >= 0 && t < 12);
  }

  /** The kernel forgets a closed file; the same number, reopened, must be watchable again. */
  @Test
  void aNumberClosedWithoutUnwatchingCanBeWatchedAgain() {
    int[] first = Libc.pipe("pipe2");
    poller.watch(new Fd(first[0]), Poller.READABLE, 1);
    Libc.close(first[0]);
    Libc.close(first[1]);
    int[] second = pipe(); // the lowest free numbers: the same two, unless a JVM thread took one
    assumeTrue(second[0] == first[0], "fd " + first[0] + " was reused by another thread");
    write(second[1], "x");

    poller.watch(new Fd(second[0]), Poller.READABLE, 2);

    assertThat(poller.poll(tokens, events, 10_000)).isEqualTo(1);
    assertThat(tokens[0]).isEqualTo(2);
  }

  @Test
  void aDescriptorThatIsNotOpenIsNamedInTheError() {
    var notOpen = new Fd(Integer.MAX_VALUE);

    assertThatThrownBy(() -> poller.watch(notOpen, Poller.READABLE, 1))
        .isInstanceOf(NativeException.class)
        .hasMessage(
            "epoll_ctl(ADD, fd=" + notOpen.value() + ") failed: EBADF (Bad file descriptor)");
    poller.unwatch(notOpen); // never watched: a no-op
  }

  @Test
  void aClosedPollerRefusesToPollAndIgnoresWakeups() {
    poller.close();

    poller.wakeup();
    poller.close();
    assertThatThrownBy(() -> poller.poll(tokens, events, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
