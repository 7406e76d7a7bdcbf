package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Fd;
import dev.baton.protocol.DeployKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A deploy reads baton.toml again: what it can take, it takes; what it cannot, it refuses. */
class ConfigReloadTest {
  @TempDir Path dir;
  private Harness h;

  @BeforeEach
  void harness() {
    h = new Harness(dir);
    h.start();
  }

  @AfterEach
  void invariants() {
    h.checkInvariants();
  }

  private void edit(String from, String to) throws Exception {
    var file = dir.resolve("baton.toml");
    var text = Files.readString(file);
    assertThat(text).contains(from);
    Files.writeString(file, text.replace(from, to));
  }

  @Test
  void theCommandAndEnvironmentInTheFileNowAreWhatTheDeployStarts() throws Exception {
    edit("exec app", "exec app-v2");
    edit("MODE = \"prod\"", "MODE = \"canary\"");

    h.deployed();

    var spec = h.os.process(1).spec;
    assertThat(spec.argv()).endsWith("/bin/sh", "-c", "exec app-v2");
    assertThat(spec.env()).containsEntry("MODE", "canary");
    assertThat(h.generation(2).command()).containsExactly("/bin/sh", "-c", "exec app-v2");
    assertThat(h.status().history().getLast().kind()).isEqualTo(DeployKind.DEPLOY);
    assertThat(h.status().history().getLast().reason()).isEqualTo("config: [app]");
    assertThat(h.supervisor.config().app().command())
        .containsExactly("/bin/sh", "-c", "exec app-v2");
  }

  @Test
  void anUnchangedFileLeavesNoReasonInTheHistory() {
    h.deployed();
    assertThat(h.status().history().getLast().reason()).isEmpty();
  }

  @Test
  void theDrainTimeoutInTheFileNowRetiresTheOldGeneration() throws Exception {
    edit("timeout = \"300ms\"", "timeout = \"5s\"");

    h.deployed();

    assertThat(h.supervisor.config().drain().timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(h.status().history().getLast().reason()).isEqualTo("config: [drain]");
  }

  @Test
  void aFileWithAnErrorRefusesTheDeployAndNothingChanges() throws Exception {
    edit("[drain]", "[drian]");
    int spawned = h.os.processes.size();

    var why = Harness.failure(h.deploy());

    assertThat(why)
        .startsWith(dir.resolve("baton.toml") + ":")
        .contains("unknown key 'drian'")
        .endsWith("the deploy was refused and nothing changed: fix the file and deploy again");
    assertThat(h.os.processes).hasSize(spawned);
    assertThat(h.status().activeGeneration()).contains(1);
    assertThat(h.supervisor.config().drain().timeout()).isEqualTo(Duration.ofMillis(300));
  }

  @Test
  void aListenerAddedIsBoundBeforeTheNewGenerationStartsAndGivenToItAlone() throws Exception {
    var first = h.os.process(0).spec.listenFds();
    Files.writeString(
        dir.resolve("baton.toml"),
        Files.readString(dir.resolve("baton.toml"))
            + "\n[[listen]]\nname = \"metrics\"\naddress = \"127.0.0.1:9100\"\n");

    h.deployed();

    var spec = h.os.process(1).spec;
    assertThat(spec.listenFds()).hasSize(3).startsWith(first.toArray(Fd[]::new));
    assertThat(spec.env()).containsEntry("LISTEN_FDNAMES", "http:admin:metrics");
    assertThat(h.os.process(0).spec.listenFds()).hasSize(2);
    assertThat(h.status().listeners())
        .extracting(l -> l.name() + "=" + l.address() + " " + l.generations())
        .containsExactly(
            "http=127.0.0.1:8080 [2]", "admin=127.0.0.1:9090 [2]", "metrics=127.0.0.1:9100 [2]");
    assertThat(h.status().history().getLast().reason()).isEqualTo("config: [[listen]]");
  }

  @Test
  void aListenerAddedOnAnyPortIsASocketOfItsOwnBesideAnotherOnAnyPort() throws Exception {
    edit("127.0.0.1:8080", "127.0.0.1:0");
    h.deployed();
    Files.writeString(
        dir.resolve("baton.toml"),
        Files.readString(dir.resolve("baton.toml"))
            + "\n[[listen]]\nname = \"metrics\"\naddress = \"127.0.0.1:0\"\n");

    h.deployed();

    assertThat(h.os.process(2).spec.listenFds()).hasSize(3).doesNotHaveDuplicates();
    assertThat(h.status().listeners()).extracting(l -> l.address()).doesNotHaveDuplicates();
  }

  @Test
  void aListenerRemovedIsClosedOnceNoGenerationThatHoldsItIsLeft() throws Exception {
    var admin = h.os.process(0).spec.listenFds().get(1);
    edit("[[listen]]\nname = \"admin\"\naddress = \"127.0.0.1:9090\"\n", "");
    h.os.process(0).drainsOn = null;

    var drained = h.deployed().retired().orElseThrow();

    assertThat(h.os.process(1).spec.listenFds()).hasSize(1);
    assertThat(h.os.process(1).spec.env()).containsEntry("LISTEN_FDNAMES", "http");
    // Generation 1 drains, and holds it meanwhile: the supervisor keeps it open for it.
    assertThat(h.os.isOpen(admin)).isTrue();
    var admins = h.status().listeners().stream().filter(l -> l.name().equals("admin")).toList();
    assertThat(admins)
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.retired()).isTrue();
              assertThat(l.generations()).containsExactly(1);
            });

    h.advanceMillis(300);
    assertThat(drained).isCompleted();
    assertThat(h.os.isOpen(admin)).isFalse();
    assertThat(h.status().listeners()).extracting(l -> l.name()).containsExactly("http");
  }

  @Test
  void anAddressInUseRefusesTheDeployNamingItsOwnerAndNothingChanges() throws Exception {
    Files.writeString(
        dir.resolve("baton.toml"),
        Files.readString(dir.resolve("baton.toml"))
            + "\n[[listen]]\nname = \"metrics\"\naddress = \"127.0.0.1:9100\"\n");
    h.os.listenError =
        java.util.Optional.of(
            new dev.baton.os.NativeException("bind", 98, "EADDRINUSE", "Address already in use"));
    int spawned = h.os.processes.size();

    var why = Harness.failure(h.deploy());

    assertThat(why)
        .startsWith(
            "listener 'metrics' cannot bind 127.0.0.1:9100: the address is in use by pid 4121"
                + " (nginx)")
        .endsWith("the deploy was refused and nothing changed");
    assertThat(h.os.processes).hasSize(spawned);
    assertThat(h.status().listeners()).hasSize(2);
    assertThat(h.supervisor.config().listeners()).hasSize(2);
  }

  @Test
  void aControlSocketChangedInTheFileRefusesTheDeployAndNothingChanges() throws Exception {
    Files.writeString(
        dir.resolve("baton.toml"),
        Files.readString(dir.resolve("baton.toml"))
            + "\n[control]\nsocket = \""
            + dir.resolve("other.sock")
            + "\"\n");
    edit("exec app", "exec app-v2");
    int spawned = h.os.processes.size();

    var why = Harness.failure(h.deploy());

    assertThat(why)
        .isEqualTo(
            dir.resolve("baton.toml")
                + ": [control] changed, which a deploy cannot take: the supervisor sets it up once,"
                + " at its start. The deploy was refused and nothing changed; undo the change and"
                + " deploy again, or restart the service to take it");
    assertThat(h.os.processes).hasSize(spawned);
    assertThat(h.supervisor.config().app().command()).containsExactly("/bin/sh", "-c", "exec app");
  }

  @Test
  void aLogFileNamedInTheFileTakesTheNewGenerationsOutputAndTheOldKeepsItsOwn() throws Exception {
    var log = dir.resolve("app.log");
    Files.writeString(
        dir.resolve("baton.toml"),
        Files.readString(dir.resolve("baton.toml")) + "\n[logs]\nfile = \"" + log + "\"\n");
    h.os.process(0).drainsOn = null;

    h.deployed();
    h.os.process(1).print("from generation 2\n");
    h.os.process(0).print("from generation 1\n");
    h.drive();

    assertThat(LogFiles.ofThisProcess()).map(LogFile::path).contains(log);
    assertThat(Files.readString(log)).contains("gen 2 | from generation 2");
    assertThat(Files.readString(log)).doesNotContain("from generation 1");
    assertThat(h.status().history().getLast().reason()).isEqualTo("config: [logs]");
    LogFiles.use(h.supervisor.config().logs(), java.util.Optional.empty());
  }

  @Test
  void aLogFormatChangedInTheFileRefusesTheDeploy() throws Exception {
    Files.writeString(
        dir.resolve("baton.toml"),
        Files.readString(dir.resolve("baton.toml")) + "\n[logs]\njson = true\n");

    assertThat(Harness.failure(h.deploy())).contains(": [logs] json changed");
  }

  @Test
  void aMetricsAddressAddedInTheFileRefusesTheDeploy() throws Exception {
    Files.writeString(
        dir.resolve("baton.toml"),
        Files.readString(dir.resolve("baton.toml")) + "\n[metrics]\naddress = \"127.0.0.1:9\"\n");

    assertThat(Harness.failure(h.deploy())).contains(": [metrics] changed");
    assertThat(h.status().activeGeneration()).contains(1);
  }

  @Test
  void aRemovedFileRefusesTheDeploy() throws Exception {
    Files.delete(dir.resolve("baton.toml"));

    assertThat(Harness.failure(h.deploy()))
        .contains("baton.toml: no such file")
        .contains("the deploy was refused");
    assertThat(h.status().activeGeneration()).contains(1);
  }
}
