package dev.baton.os;

import static dev.baton.os.Reaping.awaitExit;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** reap() and exitFd(): a process's exit as the event loop sees it, without a thread waiting. */
class ReapTest {
  private final Os os = Os.linux();
  private final List<ChildProcess> processes = new ArrayList<>();

  @TempDir Path workdir;

  @AfterEach
  void killEveryProcessStarted() {
    for (var process : processes) {
      process.signal(Signal.KILL);
      awaitExit(process);
    }
  }

  private ChildProcess spawn(String... argv) {
    var env = Map.of("PATH", System.getenv("PATH"));
    var child = os.spawn(new SpawnSpec(List.of(argv), env, workdir, Optional.empty(), List.of()));
    processes.add(child);
    return child;
  }

  @Test
  void aRunningChildIsNotReaped() {
    var child = spawn("sleep", "30");

    assertThat(child.reap()).isEmpty();
    assertThat(child.reap()).isEmpty();
    assertThat(child.exit()).isNotDone();
    assertThat(child.signal(Signal.CONT)).as("still signallable").isTrue();
  }

  @Test
  void anExitedChildIsReapedOnceAndItsStatusKept() {
    var child = spawn("/bin/sh", "-c", "exit 7");

    var status = awaitExit(child);

    assertThat(status).isEqualTo(ExitStatus.exited(7));
    assertThat(status.success()).isFalse();
    assertThat(child.exit()).isCompletedWithValue(ExitStatus.exited(7));
    assertThat(child.reap()).contains(ExitStatus.exited(7));
    assertThat(child.signal(Signal.TERM)).as("a reaped pid may be recycled").isFalse();
    assertThatThrownBy(child::exitFd)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("pid " + child.pid());
  }

  @Test
  void aKilledChildReportsTheSignal() {
    var child = spawn("sleep", "30");

    assertThat(child.signal(Signal.KILL)).isTrue();

    assertThat(awaitExit(child)).isEqualTo(ExitStatus.killed(9));
  }

  @Test
  void theExitFdTurnsReadableInAPollerWhenTheChildExits() {
    var child = spawn("sleep", "30");
    try (var poller = os.poller()) {
      poller.watch(child.exitFd(), Poller.READABLE, 42);
      var tokens = new long[4];
      var events = new int[4];
      assertThat(poller.poll(tokens, events, 0)).as("running").isZero();

      child.signal(Signal.TERM);

      assertThat(poller.poll(tokens, events, 10_000)).isEqualTo(1);
      assertThat(tokens[0]).isEqualTo(42);
      assertThat(events[0] & Poller.READABLE).isNotZero();
      poller.unwatch(child.exitFd()); // before reap(), which closes it
      assertThat(child.reap()).contains(ExitStatus.killed(15));
    }
  }

  /** The sh exits at once, so its background sleep is not our child: waitid says ECHILD. */
  @Test
  void aProcessThatIsNotOurChildIsReapedWithAnUnknownStatus() throws Exception {
    var sh = spawn("/bin/sh", "-c", "sleep 30 & echo $!");
    int grandchild =
        Integer.parseInt(new BufferedReader(new InputStreamReader(sh.stdout(), UTF_8)).readLine());
    assertThat(awaitExit(sh)).isEqualTo(ExitStatus.exited(0));
    var adopted = os.adopt(grandchild, /* stdout= */ null, /* stderr= */ null);
    processes.add(adopted);

    assertThat(adopted.reap()).as("running").isEmpty();
    assertThat(adopted.signal(Signal.KILL)).isTrue();

    assertThat(awaitExit(adopted)).isEqualTo(ExitStatus.unknown());
    assertThat(adopted.exit()).isCompletedWithValue(ExitStatus.unknown());
    assertThat(adopted.signal(Signal.KILL)).isFalse();
  }

  @Test
  void anAdoptedProcessIsHeldAndItsOutputTakenBack() throws Exception {
    var child = spawn("/bin/sh", "-c", "echo before; exec sleep 30");
    // A second holder, as a restarted supervisor would be: it reads what the child prints next.
    var pipes = child.outputPipes();
    var stdout = os.takeFd(child.pid(), pipes.get(0), /* forReading= */ true).orElseThrow();
    var stderr = os.takeFd(child.pid(), pipes.get(1), /* forReading= */ true).orElseThrow();
    assertThat(os.link(stdout)).isEqualTo(pipes.get(0));
    var adopted = os.adopt(child.pid(), stdout, stderr);
    assertThat(adopted.pid()).isEqualTo(child.pid());
    assertThat(adopted.outputPipes()).isEqualTo(pipes);
    assertThat(os.takeFd(child.pid(), "socket:[1]", false)).isEmpty();
    assertThat(os.startTime(child.pid())).isPresent();
    assertThat(adopted.signal(Signal.TERM)).isTrue();
    // Both holders see the exit; only the one whose waitid reaps it learns the status.
    var statuses = List.of(awaitExit(child), awaitExit(adopted));
    assertThat(statuses).containsExactlyInAnyOrder(ExitStatus.killed(15), ExitStatus.unknown());
  }

  /**
   * signal() from another thread while the loop reaps: it must never use the pidfd's number after
   * reap() has closed it, and must answer false once the status is known.
   */
  @Test
  void signallingFromAnotherThreadWhileReapingIsSafe() throws Exception {
    for (int round = 0; round < 20; round++) {
      var child = spawn("sleep", "30");
      var reaped = new AtomicBoolean();
      var signaller =
          CompletableFuture.runAsync(
              () -> {
                while (!reaped.get()) {
                  child.signal(Signal.CONT);
                }
                assertThat(child.signal(Signal.CONT)).isFalse();
              });
      child.signal(Signal.KILL);

      assertThat(awaitExit(child)).isEqualTo(ExitStatus.killed(9));
      reaped.set(true);
      signaller.get(10, TimeUnit.SECONDS);
    }
  }
}
