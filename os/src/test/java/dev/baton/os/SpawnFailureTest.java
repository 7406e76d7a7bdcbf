package dev.baton.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spawn's edges: a pidfd_open that fails after the child exists (the child must be neither left
 * running nor left a zombie), and a relative PATH entry (the child's workdir, not ours).
 */
class SpawnFailureTest {
  private final IntUnaryOperator realPidfdOpen = LinuxSpawn.pidfdOpen;
  private final AtomicInteger spawned = new AtomicInteger();

  @TempDir Path workdir;

  @AfterEach
  void restore() {
    LinuxSpawn.pidfdOpen = realPidfdOpen;
    int pid = spawned.get();
    if (pid > 0 && Files.exists(Path.of("/proc/" + pid))) {
      Libc.kill(
          pid, Signal.KILL.number(), "kill(" + pid + ")"); // a failed test leaves nothing running
    }
  }

  @Test
  void aChildWhosePidfdCannotBeOpenedIsKilledAndReaped() throws Exception {
    LinuxSpawn.pidfdOpen =
        pid -> {
          spawned.set(pid);
          throw new NativeException(
              "pidfd_open(pid " + pid + ")", 24, "EMFILE", "Too many open files");
        };
    var spec =
        new SpawnSpec(
            List.of("/bin/sleep", "30"),
            Map.of("PATH", "/usr/bin:/bin"),
            workdir,
            Optional.empty(),
            List.of());
    assertThatThrownBy(() -> Os.linux().spawn(spec))
        .isInstanceOf(NativeException.class)
        .hasMessageContaining("EMFILE");
    int pid = spawned.get();
    assertThat(pid).isPositive();
    // Gone from the process table, not a zombie ('Z' in /proc/pid/stat) waiting for a wait.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> !Files.exists(Path.of("/proc/" + pid)));
  }

  @Test
  void aRelativePathEntryIsLookedUpInTheChildsWorkdirWhereItRuns() throws Exception {
    var bin = Files.createDirectories(workdir.resolve("bin"));
    var program = bin.resolve("from-workdir");
    Files.writeString(program, "#!/bin/sh\ntouch ran-in-workdir\n");
    assertThat(program.toFile().setExecutable(true)).isTrue();
    assertThat(LinuxSpawn.resolve("from-workdir", "bin:/usr/bin:/bin", workdir))
        .isEqualTo(program.toString());
    // An empty entry is the working directory, as execvp(3) takes it.
    Files.copy(program, workdir.resolve("from-workdir"));
    assertThat(LinuxSpawn.resolve("from-workdir", ":/usr/bin", workdir))
        .isEqualTo(workdir.resolve("from-workdir").toString());
    // The test's own directory has no bin/from-workdir: the child's workdir is where it is found.
    assertThat(Path.of("bin/from-workdir").toAbsolutePath()).doesNotExist();
    var child =
        Os.linux()
            .spawn(
                new SpawnSpec(
                    List.of("from-workdir"),
                    Map.of("PATH", "bin:/usr/bin:/bin"),
                    workdir,
                    Optional.empty(),
                    List.of()));
    assertThat(Reaping.awaitExit(child)).isEqualTo(ExitStatus.exited(0));
    assertThat(workdir.resolve("ran-in-workdir")).exists();
  }
}
