package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.NativeException;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.ServerMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's control socket, spoken as `baton` speaks it: one JSON request a line, events, one
 * reply.
 */
class ControlServerTest {
  private static final Request.Deploy DEPLOY =
      new Request.Deploy(Optional.empty(), Map.of(), false);

  @TempDir Path dir;
  private Harness h;

  @BeforeEach
  void harness() {
    h = new Harness(dir);
  }

  @AfterEach
  void invariants() {
    h.checkInvariants();
  }

  private static List<DeployStep> steps(List<ServerMessage> messages) {
    return messages.stream()
        .filter(DeployEvent.class::isInstance)
        .map(m -> ((DeployEvent) m).step())
        .toList();
  }

  @Test
  void theControlSocketIsMode0600() {
    h.start();
    assertThat(h.os.unixListeners.get(h.config.control().socket()).mode).isEqualTo(0600);
  }

  @Test
  void statusIsAnsweredWithTheSupervisorsStatusThenTheConnectionCloses() {
    h.start();
    var caller = h.request(new Request.GetStatus());
    assertThat(Harness.messages(caller)).containsExactly(new Reply.StatusReply(h.status()));
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
  }

  @Test
  void aDeploySendsItsEventsAsTheyHappenThenItsReply() {
    h.start();
    h.apps(p -> {});
    var caller = h.request(DEPLOY);
    assertThat(steps(Harness.messages(caller))).containsExactly(DeployStep.SPAWNED);
    assertThat(caller.isClosedByPeer()).isFalse();
    h.os.process(1).ready();
    h.drive();
    var messages = Harness.messages(caller);
    assertThat(steps(messages))
        .containsExactly(DeployStep.SPAWNED, DeployStep.READY, DeployStep.PROMOTED);
    assertThat(messages.getLast()).isEqualTo(new Reply.Done(2, 1001));
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
  }

  @Test
  void aDeployThatWaitsAlsoReportsTheOldGenerationsDrainBeforeItsReply() {
    h.start();
    h.os.process(0).drainsOn = null;
    var caller = h.request(new Request.Deploy(Optional.empty(), Map.of(), true));
    assertThat(steps(Harness.messages(caller)))
        .containsExactly(DeployStep.SPAWNED, DeployStep.READY, DeployStep.PROMOTED);
    h.advanceMillis(300);
    var messages = Harness.messages(caller);
    assertThat(messages.get(3))
        .isEqualTo(
            new DeployEvent(
                DeployStep.DRAINED,
                1,
                1000,
                Duration.ofMillis(300),
                "generation 1 killed by SIGKILL"));
    assertThat(messages.getLast()).isEqualTo(new Reply.Done(2, 1001));
    assertThat(messages).hasSize(5);
  }

  @Test
  void aFailedDeployIsAnsweredWithWhy() {
    h.start();
    h.apps(p -> p.exitWith(3));
    var messages = Harness.messages(h.request(DEPLOY));
    assertThat(steps(messages)).containsExactly(DeployStep.SPAWNED, DeployStep.FAILED);
    assertThat(messages.getLast())
        .isEqualTo(
            new Reply.Failed("generation 2 (pid 1001) exited with status 3 before it was ready"));
  }

  @Test
  void aRollbackIsAnsweredWithItsEventsAndTheGenerationNowActive() {
    h.batonApps();
    h.start(ParkTest.PARK);
    h.deployed();
    var messages = Harness.messages(h.request(new Request.Rollback(Optional.empty(), false)));
    assertThat(steps(messages)).containsExactly(DeployStep.RESUMED);
    assertThat(messages.getLast()).isEqualTo(new Reply.Done(1, 1000));
    assertThat(h.status().history().getLast().reason()).isEqualTo("requested with baton rollback");
  }

  @Test
  void aLineThatIsNotJsonIsAnsweredWithTheErrorAndClosed() {
    h.start();
    var caller = h.send("deploy please", Harness.OPERATOR_PID, FakeOs.UID);
    var reply = (Reply.Failed) Harness.messages(caller).getFirst();
    assertThat(reply.error())
        .startsWith("malformed control message: not JSON (")
        .endsWith("); send one JSON object per line, e.g. {\"command\":\"status\"}");
    assertThat(caller.lines()).hasSize(1);
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
  }

  @Test
  void anUnknownCommandIsAnsweredWithTheOnesThereAre() {
    h.start();
    var caller = h.send("{\"command\":\"dance\"}", Harness.OPERATOR_PID, FakeOs.UID);
    assertThat(Harness.messages(caller))
        .containsExactly(
            new Reply.Failed(
                "malformed control message: unknown or"
                    + " missing \"command\" in {\"command\":\"dance\"}; use one of \"deploy\", \"rollback\", \"status\", \"stop\","
                    + " \"upgrade\", \"reopen-logs\""));
  }

  @Test
  void aCallerOfAnotherUidIsRefusedAndNothingItAskedIsDone() {
    h.start();
    var caller = h.send(dev.baton.protocol.Codec.encode(DEPLOY), Harness.OPERATOR_PID, 1001);
    assertThat(Harness.messages(caller))
        .containsExactly(
            new Reply.Failed(
                "uid 1001 may not control this supervisor,"
                    + " which runs as uid 1000; run baton as uid 1000 or as root"));
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
    assertThat(h.os.processes).hasSize(1);
  }

  @Test
  void rootMayControlTheSupervisor() {
    h.start();
    var caller = h.send(dev.baton.protocol.Codec.encode(new Request.GetStatus()), 1, 0);
    assertThat(Harness.messages(caller)).singleElement().isInstanceOf(Reply.StatusReply.class);
  }

  @Test
  void aConnectionCarriesOneRequestOnly() {
    h.start();
    var caller = h.connect(Harness.OPERATOR_PID, FakeOs.UID);
    caller.sendRaw("{\"command\":\"status\"}\n{\"command\":\"deploy\"}\n");
    h.drive();
    assertThat(Harness.messages(caller)).singleElement().isInstanceOf(Reply.StatusReply.class);
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
    assertThat(h.os.processes).as("the second line was never read").hasSize(1);
  }

  @Test
  void anEndlessLineIsCutOffWithoutAnAnswer() {
    h.start();
    var caller = h.connect(Harness.OPERATOR_PID, FakeOs.UID);
    caller.sendRaw("{\"command\":\"status\",\"x\":\"" + "x".repeat(ControlServer.MAX_REQUEST));
    h.drive();
    assertThat(caller.lines()).isEmpty();
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
  }

  @Test
  void aCallerThatSaysNothingIsCutOffAfterTenSeconds() {
    h.start();
    var caller = h.connect(Harness.OPERATOR_PID, FakeOs.UID);
    h.advance(ControlServer.REQUEST_TIMEOUT.minusMillis(1));
    assertThat(caller.isClosedByPeer()).isFalse();
    h.advanceMillis(1);
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
    assertThat(caller.lines()).isEmpty();
  }

  @Test
  void oneCallerMoreThanTheLimitIsToldToRetryAndAFreedPlaceIsTakenAgain() {
    h.start();
    var callers = new ArrayList<FakeSockets.Connection>();
    for (int i = 0; i < ControlServer.MAX_CONNECTIONS; i++) {
      callers.add(h.connect(Harness.OPERATOR_PID, FakeOs.UID));
    }
    var oneTooMany =
        h.send(
            dev.baton.protocol.Codec.encode(new Request.GetStatus()),
            Harness.OPERATOR_PID,
            FakeOs.UID);
    assertThat(Harness.messages(oneTooMany))
        .containsExactly(
            new Reply.Failed("the supervisor is serving 64 control connections already; retry"));
    callers.getFirst().close();
    h.drive();
    var next = h.request(new Request.GetStatus());
    assertThat(Harness.messages(next)).singleElement().isInstanceOf(Reply.StatusReply.class);
  }

  @Test
  void aCallerThatHangsUpDuringADeployDoesNotStopIt() {
    h.start();
    h.apps(p -> {});
    var caller = h.request(DEPLOY);
    caller.close();
    h.drive();
    h.os.process(1).ready();
    h.drive();
    assertThat(h.status().activeGeneration()).contains(2);
  }

  @Test
  void stopIsAnsweredOnceEveryGenerationHasDrained() {
    h.start();
    h.os.process(0).drainsOn = null;
    var caller = h.request(new Request.Stop());
    assertThat(caller.lines()).isEmpty();
    h.advanceMillis(300);
    assertThat(Harness.messages(caller)).containsExactly(new Reply.Ok());
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
    assertThat(h.supervisor.stopped()).isCompleted();
  }

  @Test
  void reopeningLogsWithoutALogFileSaysThereIsNothingToReopen() {
    h.start();
    assertThat(Harness.messages(h.request(new Request.ReopenLogs())))
        .containsExactly(
            new Reply.Failed(
                dir.resolve("baton.toml")
                    + " has no [logs] file: the generations' output goes to the supervisor's own log,"
                    + " so there is nothing to reopen"));
  }

  @Test
  void anAcceptThatFailsForWantOfDescriptorsIsRetriedAfterABackoff() {
    h.start();
    var listener = h.os.unixListeners.get(h.config.control().socket());
    listener.failNextAccept =
        Optional.of(new NativeException("accept4", 24, "EMFILE", "Too many open files"));
    var caller = h.request(new Request.GetStatus());
    assertThat(caller.lines()).isEmpty();
    h.advanceMillis(100);
    assertThat(Harness.messages(caller)).singleElement().isInstanceOf(Reply.StatusReply.class);
  }

  @Test
  void aReplyLargerThanTheCallersBufferIsWrittenAsTheCallerReads() {
    h.start();
    var caller = h.connect(Harness.OPERATOR_PID, FakeOs.UID);
    caller.capacity = 64;
    caller.send(dev.baton.protocol.Codec.encode(new Request.GetStatus()));
    int turns = 0;
    var status = h.status();
    for (h.drive(); Harness.messages(caller).isEmpty(); h.drive()) {
      caller.lines(); // reads what is there, making room
      assertThat(++turns).as("turns to read the reply").isLessThan(1000);
    }
    assertThat(turns).isGreaterThan(5);
    assertThat(Harness.messages(caller)).containsExactly(new Reply.StatusReply(status));
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
  }

  @Test
  void aRefusalIsDeliveredInFullEvenToACallerThatReadsSlowly() {
    h.start();
    var caller = h.connect(Harness.OPERATOR_PID, 1001);
    caller.capacity = 64;
    caller.send(dev.baton.protocol.Codec.encode(new Request.GetStatus()));
    for (int turn = 0; turn < 100 && !caller.isClosedByPeer(); turn++) {
      h.drive();
      caller.lines();
    }
    assertThat(Harness.messages(caller))
        .containsExactly(
            new Reply.Failed(
                "uid 1001 may not control this supervisor,"
                    + " which runs as uid 1000; run baton as uid 1000 or as root"));
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
  }

  @Test
  void aFloodOfConnectionsHoldsAtMostMaxOpenDescriptorsAndAllAreGivenBack() {
    h.start();
    int fds = h.os.openFds().size();
    var callers = new ArrayList<FakeSockets.Connection>();
    for (int i = 0; i < 3 * ControlServer.MAX_OPEN; i++) {
      callers.add(h.connect(Harness.OPERATOR_PID, FakeOs.UID));
      h.drive();
    }
    assertThat(h.os.openFds()).hasSize(fds + ControlServer.MAX_OPEN);
    assertThat(callers.subList(0, ControlServer.MAX_CONNECTIONS))
        .allMatch(c -> c.lines().isEmpty() && !c.isClosedByPeer());
    assertThat(callers.subList(ControlServer.MAX_CONNECTIONS, ControlServer.MAX_OPEN))
        .allMatch(
            c ->
                c.lines()
                    .equals(
                        List.of(
                            "{\"ok\":false,\"error\":\"the supervisor is serving 64 control connections already; retry\"}")));
    assertThat(callers.subList(ControlServer.MAX_OPEN, callers.size()))
        .allMatch(c -> c.lines().isEmpty() && c.isClosedByPeer());
    h.advance(ControlServer.REQUEST_TIMEOUT);
    assertThat(callers).allMatch(FakeSockets.Connection::isClosedByPeer);
    assertThat(h.os.openFds()).hasSize(fds);
    assertThat(Harness.messages(h.request(new Request.GetStatus())))
        .containsExactly(new Reply.StatusReply(h.status()));
    assertThat(h.supervisor.loop().caught()).isZero();
  }
}
