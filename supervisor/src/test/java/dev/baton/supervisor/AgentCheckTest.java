package dev.baton.supervisor;

import static dev.baton.supervisor.AgentProbe.await;
import static dev.baton.supervisor.AgentProbe.check;
import static dev.baton.supervisor.AgentProbe.readToEnd;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AgentCheckTest {
  private static final InetAddress HAPROXY = InetAddress.getLoopbackAddress();
  private static final InetAddress OTHER_HAPROXY = InetAddress.ofLiteral("10.0.0.2");

  private final AgentAnswers answers = new AgentAnswers(100);
  private final AtomicBoolean drain = new AtomicBoolean();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (var c : toClose.reversed()) {
      c.close();
    }
  }

  private static AgentAnswers.Key key(InetAddress peer, String send) {
    return new AgentAnswers.Key(peer, send);
  }

  /** A deadline long enough for a test to fill every place before the first expires. */
  private static final Duration HOLD = Duration.ofSeconds(5);

  private AgentCheck live() throws IOException {
    return live(AgentCheck.DEADLINE);
  }

  private AgentCheck live(Duration deadline) throws IOException {
    var check =
        AgentCheck.open(
            new InetSocketAddress(HAPROXY, 0),
            100,
            () -> CompletableFuture.completedFuture(drain.get()),
            deadline);
    check.start();
    toClose.add(check);
    return check;
  }

  private Socket connect(AgentCheck check) throws IOException {
    var socket = new Socket();
    toClose.add(socket);
    socket.connect(check.address(), 3000);
    return socket;
  }

  @Test
  void aServingHostAnswersUpWhichLeavesAnOperatorsDrainAlone() {
    assertThat(answers.next(key(HAPROXY, ""), /* drain= */ false)).isEqualTo("up\n");
    assertThat(answers.next(key(HAPROXY, ""), /* drain= */ false)).isEqualTo("up\n");
  }

  @Test
  void aDeployingHostAnswersDrainThenReadyOnceToUndoItsOwnDrain() {
    assertThat(answers.next(key(HAPROXY, ""), /* drain= */ true)).isEqualTo("drain\n");
    assertThat(answers.next(key(HAPROXY, ""), /* drain= */ true)).isEqualTo("drain\n");

    assertThat(answers.next(key(HAPROXY, ""), /* drain= */ false)).isEqualTo("ready\n");
    assertThat(answers.next(key(HAPROXY, ""), /* drain= */ false)).isEqualTo("up\n");
  }

  @Test
  void onlyTheHaproxyThatHeardDrainHearsReady() {
    answers.next(key(HAPROXY, ""), /* drain= */ true);

    assertThat(answers.next(key(OTHER_HAPROXY, ""), /* drain= */ false)).isEqualTo("up\n");
    assertThat(answers.next(key(HAPROXY, ""), /* drain= */ false)).isEqualTo("ready\n");
  }

  @Test
  void twoServerLinesPolledFromOneAddressEachHearReadyOnce() {
    answers.next(key(HAPROXY, "web/app1"), /* drain= */ true);
    answers.next(key(HAPROXY, "api/app1"), /* drain= */ true);

    assertThat(answers.next(key(HAPROXY, "web/app1"), /* drain= */ false)).isEqualTo("ready\n");
    assertThat(answers.next(key(HAPROXY, "api/app1"), /* drain= */ false)).isEqualTo("ready\n");
    assertThat(answers.next(key(HAPROXY, "api/app1"), /* drain= */ false)).isEqualTo("up\n");
  }

  @Test
  void aWeightOtherThan100IsSentAsAPercentage() {
    var weighted = new AgentAnswers(50);

    assertThat(weighted.next(key(HAPROXY, ""), /* drain= */ false)).isEqualTo("up 50%\n");
    assertThat(weighted.next(key(HAPROXY, ""), /* drain= */ true)).isEqualTo("drain\n");
    assertThat(weighted.next(key(HAPROXY, ""), /* drain= */ false)).isEqualTo("ready 50%\n");
  }

  @Test
  void theDrainedAreBoundedAndTheLongestSilentIsForgottenFirst() {
    for (int i = 0; i <= AgentAnswers.MAX_DRAINED; i++) {
      answers.next(key(HAPROXY, "server" + i), /* drain= */ true);
    }

    assertThat(answers.drainedCount()).isEqualTo(AgentAnswers.MAX_DRAINED);
    assertThat(answers.next(key(HAPROXY, "server0"), /* drain= */ false)).isEqualTo("up\n");
    assertThat(answers.next(key(HAPROXY, "server1"), /* drain= */ false)).isEqualTo("ready\n");
  }

  @Test
  void overLoopbackTwoServersFromOneAddressEachHearReadyOnce() throws Exception {
    var check = live();
    drain.set(true);
    assertThat(check(check.address(), "web/app1\n")).isEqualTo("drain\n");
    assertThat(check(check.address(), "api/app1\n")).isEqualTo("drain\n");

    drain.set(false);

    assertThat(check(check.address(), "api/app1\n")).isEqualTo("ready\n");
    assertThat(check(check.address(), "web/app1\r\n")).isEqualTo("ready\n");
    assertThat(check(check.address(), "web/app1\n")).isEqualTo("up\n");
    assertThat(check(check.address(), "api/app1\n")).isEqualTo("up\n");
  }

  @Test
  void aCheckWithoutAgentSendIsAnsweredAfterTheWaitAndKeyedOnItsAddress() throws Exception {
    var check = live();
    drain.set(true);
    assertThat(check(check.address(), "")).isEqualTo("drain\n");
    drain.set(false);

    assertThat(check(check.address(), "web/app1\n")).isEqualTo("up\n");
    assertThat(check(check.address(), "")).isEqualTo("ready\n");
    assertThat(check.counters().answered.get()).isEqualTo(3);
  }

  @Test
  void aPeerThatHangsUpHalfwayIsAnsweredAtOnceWithWhatItSent() throws Exception {
    var check = live();
    var socket = connect(check);
    socket.getOutputStream().write("web/ap".getBytes(StandardCharsets.US_ASCII));
    socket.shutdownOutput();

    assertThat(readToEnd(socket, Duration.ofSeconds(5))).isEqualTo("up\n");
    assertThat(await(Duration.ofSeconds(5), () -> check.openConnections() == 0)).isTrue();
    assertThat(check.counters().expired.get()).isZero();
  }

  @Test
  void aConnectionOverTheCapClosesTheOldestAtOnce() throws Exception {
    // A status that never comes: every connection stays waiting for its answer and keeps its place.
    var check =
        AgentCheck.open(new InetSocketAddress(HAPROXY, 0), 100, CompletableFuture::new, HOLD);
    toClose.add(check);
    check.start();
    var held = new ArrayList<Socket>();
    for (int i = 0; i < AgentCheck.MAX_CONNECTIONS; i++) {
      var socket = connect(check);
      socket.getOutputStream().write("web/app1\n".getBytes(StandardCharsets.US_ASCII));
      held.add(socket);
      // One at a time, so that the oldest is the first connected.
      int open = i + 1;
      assertThat(await(Duration.ofSeconds(5), () -> check.openConnections() == open)).isTrue();
    }

    var over = connect(check);

    assertThat(readToEnd(held.getFirst(), Duration.ofSeconds(2))).isEmpty();
    assertThat(check.counters().evicted.get()).isEqualTo(1);
    assertThat(check.counters().accepted.get()).isEqualTo(AgentCheck.MAX_CONNECTIONS + 1);
    assertThat(
            await(
                Duration.ofSeconds(5), () -> check.openConnections() == AgentCheck.MAX_CONNECTIONS))
        .isTrue();
    held.removeFirst();
    held.add(over);
    for (var socket : held) {
      assertThat(readToEnd(socket, HOLD.plusSeconds(5))).isEmpty();
    }
    assertThat(await(Duration.ofSeconds(5), () -> check.openConnections() == 0)).isTrue();
    assertThat(check.counters().expired.get()).isEqualTo(AgentCheck.MAX_CONNECTIONS);
  }

  @Test
  void connectionsThatGotTheirAnswerAndLingerMakeRoomForANewCheck() throws Exception {
    var check = live(HOLD);
    for (int i = 0; i < AgentCheck.MAX_CONNECTIONS; i++) {
      // Reads nothing and never hangs up: it holds its place until the deadline, or until evicted.
      connect(check).getOutputStream().write("web/app1\n".getBytes(StandardCharsets.US_ASCII));
    }
    assertThat(
            await(
                Duration.ofSeconds(5),
                () -> check.counters().answered.get() == AgentCheck.MAX_CONNECTIONS))
        .isTrue();

    assertThat(check(check.address(), "api/app1\n")).isEqualTo("up\n");
    assertThat(check.counters().evicted.get()).isEqualTo(1);
    assertThat(check.counters().expired.get()).isZero();
  }

  @Test
  void aClientTricklingBytesIsClosedAtTheDeadlineFromAccept() throws Exception {
    var check = live();
    var socket = connect(check);
    long connected = System.nanoTime();
    var out = socket.getOutputStream();
    // A byte every 300 ms for up to 6 s: a read timeout restarted by each byte would never expire.
    var refusedAt = new java.util.concurrent.CompletableFuture<Long>();
    var trickle =
        Thread.ofVirtual()
            .start(() -> refusedAt.complete(trickle(out, Duration.ofMillis(300), 20)));

    // Its bytes had no newline: it is answered when the wait for agent-send is over...
    assertThat(readToEnd(socket, Duration.ofSeconds(5))).isEqualTo("up\n");
    trickle.join();
    // ...and closed at the deadline: the write after the reset that follows fails.
    assertThat(refusedAt.get()).as("the responder never closed the connection").isPositive();
    assertThat(Duration.ofNanos(refusedAt.get() - connected))
        .isLessThan(AgentCheck.DEADLINE.plusSeconds(2));
    assertThat(check.openConnections()).isZero();
    assertThat(check.counters().answered.get()).isEqualTo(1);
  }

  @Test
  void aClientSendingMoreThanTheReadLimitIsCutOff() throws Exception {
    var check = live();
    var socket = connect(check);
    var chunk = new byte[4096];
    long written = 0;
    try {
      // Far more than the limit: bounded so that a responder that reads forever fails the test.
      for (int i = 0; i < 4096; i++) {
        socket.getOutputStream().write(chunk);
        written += chunk.length;
      }
    } catch (SocketException e) {
      // reset by the responder: what is expected
    }

    assertThat(written).isLessThan(4096L * chunk.length);
    assertThat(await(Duration.ofSeconds(5), () -> check.counters().overRead.get() == 1)).isTrue();
    assertThat(check.openConnections()).isZero();
  }

  @Test
  void closingFreesThePortAndEndsTheThread() throws Exception {
    var check = AgentProbe.start(drain, 100);
    var address = check.address();
    connect(check);
    assertThat(await(Duration.ofSeconds(5), () -> check.openConnections() == 1)).isTrue();

    check.close();

    assertThat(check.serving()).isFalse();
    var again = AgentCheck.open(address, 100, () -> CompletableFuture.completedFuture(false));
    again.close();
  }

  /**
   * Writes a byte every {@code every}, {@code count} times; when a write failed, or 0 when none
   * did.
   */
  private static long trickle(OutputStream out, Duration every, int count) {
    try {
      for (int i = 0; i < count; i++) {
        out.write('x');
        out.flush();
        Thread.sleep(every);
      }
    } catch (IOException e) {
      return System.nanoTime();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
