package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.NativeException;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `baton upgrade`: the supervisor re-executes itself in place, and the new image takes everything
 * back.
 */
class UpgradeTest {
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

  private StateJournal.State journal() {
    return new StateJournal(dir.resolve("baton.sock.state"), h.os).read().orElseThrow();
  }

  private static List<String> ourCommandLine() throws IOException {
    return List.of(Files.readString(Path.of("/proc/self/cmdline")).split("\u0000"));
  }

  @Test
  void theCallerIsToldUpgradingThenTheSupervisorExecsItsCommandLineSayingWhereItCameFrom()
      throws IOException {
    h.os.environment.put("LANG", "C.UTF-8");
    h.start();
    var caller = h.request(new Request.Upgrade());
    assertThat(h.execed).isPresent();
    assertThat(Harness.messages(caller)).containsExactly(new Reply.Upgrading(500));
    assertThat(caller.isClosedByPeer()).as("every descriptor is close-on-exec").isTrue();
    var exec = h.os.execs.getFirst();
    assertThat(exec.argv).isEqualTo(ourCommandLine());
    var env = new HashMap<>(h.os.environment);
    env.put("BATON_UPGRADED_FROM", "500");
    assertThat(exec.env).isEqualTo(env);
  }

  @Test
  void theJournalCarriesWhatTheOutputReadersHoldOfUnfinishedLines() {
    h.start();
    h.os.process(0).print("done\nhalf a li");
    h.os.process(0).printErr("warn");
    h.drive();
    h.request(new Request.Upgrade());
    assertThat(h.execed).isPresent();
    var entry = journal().generations().getFirst();
    assertThat(entry.number()).isEqualTo(1);
    assertThat(entry.state()).isEqualTo("active");
    assertThat(entry.pendingOutput()).containsExactly("half a li", "warn");
  }

  @Test
  void theNewImageTakesBackItsChildrenTheirUnfinishedLinesAndTheirExitStatuses() {
    h.start();
    h.deployed();
    h.os.process(1).print("half a li");
    h.drive();
    h.request(new Request.Upgrade());
    h.start(); // the new image: same pid, same children
    assertThat(h.os.processes).hasSize(2);
    assertThat(h.status().supervisorPid()).isEqualTo(500);
    assertThat(h.status().activeGeneration()).contains(2);
    h.os.process(1).print("ne\n");
    h.drive();
    assertThat(h.live(2).lastOutput()).isEqualTo("; its last output: half a line");
    h.os.process(1).exitWith(3);
    h.drive();
    assertThat(h.generation(2).exit()).contains("exited with status 3");
    assertThat(h.generation(2).reason()).isEqualTo("crashed: exited with status 3");
  }

  @Test
  void anUpgradeIsRefusedWhileADeployIsInProgress() {
    h.start();
    h.apps(p -> {});
    h.deploy();
    var caller = h.request(new Request.Upgrade());
    assertThat(Harness.messages(caller))
        .containsExactly(
            new Reply.Failed(
                "a deploy is already in progress (generation 2, started 0 ms ago); wait for it to finish, then upgrade"));
    assertThat(h.os.execs).isEmpty();
    h.os.process(1).ready();
    h.drive();
    assertThat(h.status().activeGeneration()).contains(2);
    h.advance(LineChannel.LINGER);
    assertThat(caller.isClosedByPeer()).isTrue();
  }

  @Test
  void aJournalThatCannotBeWrittenRefusesTheUpgradeSaysWhyAndTheSupervisorKeepsRunning()
      throws IOException {
    h.start();
    // A rename onto a directory fails as surely as a full or read-only file system, even for root.
    var journal = dir.resolve("baton.sock.state");
    Files.delete(journal);
    Files.createFile(Files.createDirectory(journal).resolve("in the way"));
    var caller = h.request(new Request.Upgrade());
    assertThat(Harness.messages(caller))
        .singleElement()
        .isInstanceOfSatisfying(
            Reply.Failed.class,
            failed ->
                assertThat(failed.error())
                    .matches(
                        "upgrade refused, this supervisor keeps running: cannot write the state journal "
                            + java.util.regex.Pattern.quote(journal.toString())
                            + " \\("
                            + java.util.regex.Pattern.quote(dir.toString())
                            + "/baton\\.sock\\.state\\.\\d+\\.tmp: Is a directory\\)"));
    assertThat(h.os.execs).isEmpty();
    assertThat(h.execed).isEmpty();
    try (var names = Files.list(dir)) {
      assertThat(names.filter(p -> p.getFileName().toString().endsWith(".tmp")))
          .as("its temp file is removed")
          .isEmpty();
    }
    var status = h.request(new Request.GetStatus());
    assertThat(Harness.messages(status)).singleElement().isInstanceOf(Reply.StatusReply.class);
    assertThat(h.deployed().generation()).isEqualTo(2);
  }

  @Test
  void anExecThatFailsIsReportedAfterUpgradingAndTheSupervisorKeepsRunning() {
    h.start();
    h.os.execError =
        Optional.of(
            new NativeException("execve(/usr/bin/java)", 2, "ENOENT", "No such file or directory"));
    var caller = h.request(new Request.Upgrade());
    // Upgrading had to be said before execve, which is the only call that can tell it failed.
    assertThat(Harness.messages(caller))
        .containsExactly(
            new Reply.Upgrading(500),
            new Reply.Failed(
                "upgrade failed, this supervisor keeps running: execve(/usr/bin/java) failed: ENOENT (No such file or directory)"));
    assertThat(h.execed).isEmpty();
    assertThat(journal().generations().getFirst().pendingOutput())
        .as("the journal is written again, as it is")
        .isEmpty();
    assertThat(h.deployed().generation()).isEqualTo(2);
  }

  @Test
  void anUpgradeIsRefusedWhileStopping() {
    h.start();
    h.os.process(0).drainsOn = null;
    h.supervisor.stop();
    h.drive();
    var caller = h.request(new Request.Upgrade());
    assertThat(Harness.messages(caller))
        .containsExactly(new Reply.Failed("the supervisor is stopping; it takes no upgrade"));
    assertThat(h.os.execs).isEmpty();
  }
}
