package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.os.ProcessStat;
import dev.baton.protocol.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A state journal someone else wrote, or one that names processes that are not this service's, is
 * refused before anything is signalled or any descriptor taken: each check, with its message.
 */
class JournalTrustTest {
  @TempDir Path dir;
  private Harness h;
  private Path journal;

  @BeforeEach
  void harness() {
    h = new Harness(dir);
    journal = dir.resolve("baton.sock.state");
  }

  @AfterEach
  void invariants() {
    h.checkInvariants();
  }

  private String refused(String check, String fix) {
    return "the state journal "
        + journal
        + " is refused: "
        + check
        + "; nothing was signalled or taken back. "
        + fix;
  }

  private String removeIt() {
    return "Remove " + journal + " if you did not write it, and start again";
  }

  /**
   * Generation 1 runs; its supervisor crashed; the journal is rewritten with {@code change} (and
   * the key).
   */
  private void crashThenRewrite(UnaryOperator<StateJournal.State> change) {
    h.start();
    h.crash();
    var file = new StateJournal(journal, h.os);
    file.write(change.apply(file.read().orElseThrow()));
  }

  /**
   * The state with its one generation as pid {@code pid}, started at {@code startTime}, in {@code
   * state}.
   */
  private static StateJournal.State naming(
      StateJournal.State s, int pid, long startTime, String state) {
    var g = s.generations().getFirst();
    var forged =
        new StateJournal.GenerationEntry(
            g.number(),
            pid,
            startTime,
            g.session(),
            g.child(),
            state,
            g.command(),
            g.env(),
            g.workdir(),
            g.outputPipes(),
            g.pendingOutput(),
            g.probeAddress(),
            g.started(),
            g.promoted(),
            g.parkedUntil(),
            g.bakeUntil(),
            g.sockets(),
            g.paused());
    return new StateJournal.State(
        s.bootId(),
        s.uid(),
        s.supervisorPid(),
        s.supervisorStartTime(),
        s.nextNumber(),
        s.listeners(),
        java.util.List.of(forged));
  }

  private void assertRefusedAndUntouched(String message) {
    int spawned = h.os.processes.size();
    assertThatThrownBy(() -> h.open(Harness.BASE))
        .isInstanceOf(StartException.class)
        .hasMessage(message);
    assertThat(h.os.groupSignals).as("no process group signalled").isEmpty();
    assertThat(h.os.fdsAskedFor).as("no descriptor taken with pidfd_getfd").isEmpty();
    assertThat(h.os.processes).as("nothing spawned").hasSize(spawned);
    assertThat(h.os.processes).allSatisfy(p -> assertThat(p.signals).isEmpty());
    assertThat(journal).as("the journal is left for the operator to look at").exists();
    assertThat(h.os.openFds()).isEmpty();
  }

  @Test
  void aPidInAnotherSessionIsNotOursAndIsRefused() {
    h.os.strangers.put(3000, new ProcessStat(3000, 1, 3000, 77, FakeOs.UID, 9000));
    crashThenRewrite(s -> naming(s, 3000, 9000, "active"));
    assertRefusedAndUntouched(
        refused(
            "pid 3000 (generation 1) is not a generation of this service: it is in session 77,"
                + " not in session 400 where it was started",
            removeIt()));
  }

  @Test
  void aForeignProcesssListenersAreNotTakenEvenInOurSession() {
    h.os.strangers.put(3001, new ProcessStat(3001, 1, 3001, 400, 0, 9001));
    crashThenRewrite(s -> naming(s, 3001, 9001, "active"));
    assertRefusedAndUntouched(
        refused(
            "pid 3001 (generation 1) is not a generation of this service: it runs as uid 0,"
                + " not 1000",
            removeIt()));
  }

  @Test
  void aStartingGenerationThatIsNotOursIsNotKilled() {
    // Before these checks, a journal naming only starting generations had their groups SIGKILLed.
    h.os.strangers.put(3002, new ProcessStat(3002, 1, 2999, 400, FakeOs.UID, 9002));
    crashThenRewrite(s -> naming(s, 3002, 9002, "starting"));
    assertRefusedAndUntouched(
        refused(
            "pid 3002 (generation 1) is not a generation of this service: it does not lead"
                + " its own process group (it is in group 2999)",
            removeIt()));
  }

  @Test
  void afterAnUpgradeAGenerationMustStillBeOurChild() {
    h.start();
    h.request(new Request.Upgrade());
    assertThat(h.execed).isPresent();
    h.os.process(0).parent = 1;
    assertRefusedAndUntouched(
        refused(
            "pid 1000 (generation 1) is not a generation of this service: its parent is"
                + " pid 1, not this supervisor (pid 500)",
            removeIt()));
  }

  @Test
  void aCommandChangedInTheFileIsRefusedByItsHmac() throws IOException {
    h.start();
    h.crash();
    var text = Files.readString(journal);
    assertThat(text).contains("\"exec app\"");
    Files.writeString(journal, text.replace("\"exec app\"", "\"exec evil\""));
    assertRefusedAndUntouched(
        refused(
            "its HMAC does not match "
                + dir.resolve("baton.sock.key")
                + ", so this service's"
                + " supervisor did not write it as it is",
            removeIt()));
  }

  @Test
  void aJournalWithNoHmacLineIsRefusedNotTakenForAnEmptyMatch() throws IOException {
    h.start();
    h.crash();
    var json = Files.readString(journal).split("\n", 2)[1];
    // Not an older baton's journal (that starts with '{'), and no line for an HMAC at all.
    Files.writeString(journal, " " + json.replace("\"exec app\"", "\"exec evil\""));
    assertRefusedAndUntouched(
        refused(
            "its HMAC does not match "
                + dir.resolve("baton.sock.key")
                + ", so this service's"
                + " supervisor did not write it as it is",
            removeIt()));
  }

  @Test
  void aJournalWithoutItsKeyIsRefused() throws IOException {
    h.start();
    h.crash();
    Files.delete(dir.resolve("baton.sock.key"));
    assertRefusedAndUntouched(
        refused(
            "there is no key " + dir.resolve("baton.sock.key") + " to check it with", removeIt()));
  }

  @Test
  void aKeyOthersMayReadIsRefused() throws IOException {
    h.start();
    h.crash();
    Files.setPosixFilePermissions(
        dir.resolve("baton.sock.key"), PosixFilePermissions.fromString("rw-r--r--"));
    var key = dir.resolve("baton.sock.key");
    assertRefusedAndUntouched(
        refused(
            "its key " + key + " may be read by others (mode rw-r--r--)",
            "Remove " + journal + " and " + key + " if you did not write them, and start again"));
  }

  @Test
  void aJournalOfAnotherUidIsRefused() {
    crashThenRewrite(
        s ->
            new StateJournal.State(
                s.bootId(),
                1001,
                s.supervisorPid(),
                s.supervisorStartTime(),
                s.nextNumber(),
                s.listeners(),
                s.generations()));
    assertRefusedAndUntouched(
        refused(
            "it was written by a supervisor of uid 1001, and this one runs as uid 1000",
            "Run baton as uid 1001, or remove "
                + journal
                + " if you did not write it, and start again"));
  }

  @Test
  void aJournalOwnedBySomeoneElseIsRefused() {
    h.start();
    h.crash();
    h.os.fileOwners.put(journal, 1001);
    assertRefusedAndUntouched(
        refused("it is owned by uid 1001, not by this supervisor's uid 1000 or root", removeIt()));
  }

  @Test
  void aJournalInADirectoryOwnedBySomeoneElseIsRefused() {
    h.start();
    h.crash();
    h.os.fileOwners.put(dir, 1001);
    assertRefusedAndUntouched(
        refused(
            "its directory "
                + dir
                + " is owned by uid 1001, not by this supervisor's uid 1000"
                + " or root",
            removeIt()));
  }

  @Test
  void aJournalOthersMayWriteIsRefused() throws IOException {
    h.start();
    h.crash();
    Files.setPosixFilePermissions(journal, PosixFilePermissions.fromString("rw--w----"));
    assertRefusedAndUntouched(
        refused(
            "it may be written by others (mode rw--w----)",
            "Remove "
                + journal
                + " if you did not write it, run chmod go-w "
                + journal
                + ", and start again"));
  }

  @Test
  void aJournalInADirectoryOthersMayWriteIsRefused() throws IOException {
    h.start();
    h.crash();
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertRefusedAndUntouched(
        refused(
            "its directory " + dir + " may be written by others (mode rwxrwxrwx)",
            "Remove "
                + journal
                + " if you did not write it, run chmod go-w "
                + dir
                + ", and start again"));
  }

  @Test
  void aJournalThatIsASymlinkIsRefused() throws IOException {
    h.start();
    h.crash();
    var elsewhere = Files.move(journal, dir.resolve("elsewhere"));
    Files.createSymbolicLink(journal, elsewhere);
    assertRefusedAndUntouched(
        refused(
            "it is not a regular file",
            "Remove " + journal + " if you did not make it, and start again"));
  }

  @Test
  void aJournalFromAnEarlierBootIsDiscardedAndNothingItNamesIsTouched() {
    h.start();
    h.crash();
    h.os.bootId = "another boot";
    h.start();
    assertThat(h.os.groupSignals).isEmpty();
    assertThat(h.os.fdsAskedFor).isEmpty();
    assertThat(h.os.process(0).signals).isEmpty();
    assertThat(h.os.processes).as("a fresh first generation").hasSize(2);
    assertThat(h.status().generations())
        .singleElement()
        .satisfies(g -> assertThat(g.pid()).isEqualTo(1001));
  }

  @Test
  void theJournalAndItsKeyAreWrittenOwnerOnlyAndNeverThroughASymlink() throws IOException {
    var victim = Files.writeString(dir.resolve("victim"), "untouched");
    // The temp name the journal used to write through, whatever was there.
    Files.createSymbolicLink(dir.resolve("baton.sock.state.tmp"), victim);
    h.start();
    h.deployed();
    assertThat(Files.readString(victim)).isEqualTo("untouched");
    assertThat(Files.isSymbolicLink(journal)).isFalse();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(journal)))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("baton.sock.key"))))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("baton.sock.deploys"))))
        .as("the deploy record names every command run")
        .isEqualTo("rw-------");
    try (var names = Files.list(dir)) {
      assertThat(names.map(p -> p.getFileName().toString()).sorted())
          .as("no temp file is left behind")
          .containsExactly(
              "baton.sock.deploys",
              "baton.sock.key",
              "baton.sock.state",
              "baton.sock.state.tmp",
              "baton.toml",
              "victim");
    }
  }

  /**
   * The journal as baton wrote it before it had an HMAC: plain JSON, without the fields added
   * since.
   */
  private void rewriteAsAnOlderBaton() throws IOException {
    var json = Files.readString(journal).split("\n", 2)[1];
    Files.writeString(
        journal,
        json.replaceAll(
            "\"(boot_id|uid|supervisor_start_time|session|child|parked_until|bake_until)\":"
                + "(\"[^\"]*\"|[^,}]*),",
            ""));
    assertThat(Files.readString(journal))
        .startsWith("{\"supervisor_pid\":500,")
        .doesNotContain("session");
  }

  @Test
  void anOlderBatonsJournalIsTakenByTheProcessItUpgradedSoUpgradingToThisVersionKeepsTheService()
      throws IOException {
    h.start();
    h.request(new Request.Upgrade());
    assertThat(h.execed).isPresent();
    rewriteAsAnOlderBaton();
    h.os.environment.put("BATON_UPGRADED_FROM", "500");
    h.start();
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.os.processes).hasSize(1);
    assertThat(Files.readString(journal)).as("written again, with its HMAC").doesNotStartWith("{");
  }

  @Test
  void anOlderBatonsJournalIsRefusedByAnyOtherProcess() throws IOException {
    h.start();
    h.request(new Request.Upgrade());
    rewriteAsAnOlderBaton();
    assertRefusedAndUntouched(
        refused(
            "it has no HMAC, as an older baton wrote it, and this process is not that baton"
                + " upgraded",
            "Remove "
                + journal
                + " if you did not write it, stop this service's generations, and start again"));
  }

  @Test
  void aFreshStartNeedsNoJournalAndSoDoesNotCheckTheDirectory() throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxr-x"));
    h.start();
    assertThat(h.status().activeGeneration()).contains(1);
  }
}
