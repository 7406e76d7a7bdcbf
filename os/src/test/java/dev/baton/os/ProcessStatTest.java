package dev.baton.os;

import static dev.baton.os.Reaping.awaitExit;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a restarted supervisor reads from /proc to tell its own generations from other processes.
 */
class ProcessStatTest {
  private final Os os = Os.linux();

  @TempDir Path workdir;

  @Test
  void aSpawnedChildIsOurChildLeadsItsOwnGroupInOurSessionAndRunsAsUs() {
    var child =
        os.spawn(
            new SpawnSpec(
                List.of("sleep", "30"),
                Map.of("PATH", System.getenv("PATH")),
                workdir,
                Optional.empty(),
                List.of()));
    try {
      var ours = os.processStat(os.pid()).orElseThrow();
      var stat = os.processStat(child.pid()).orElseThrow();
      assertThat(stat)
          .isEqualTo(
              new ProcessStat(
                  child.pid(),
                  os.pid(),
                  child.pid(),
                  ours.session(),
                  os.uid(),
                  os.startTime(child.pid()).orElseThrow()));
    } finally {
      child.signal(Signal.KILL);
      awaitExit(child);
    }
    assertThat(os.processStat(child.pid())).as("reaped: gone from /proc").isEmpty();
  }

  @Test
  void thisProcessIsSeenAsItIs() {
    var self = os.processStat(os.pid()).orElseThrow();
    assertThat(self.pid()).isEqualTo(os.pid());
    assertThat(self.parent()).isEqualTo((int) ProcessHandle.current().parent().orElseThrow().pid());
    assertThat(self.uid()).isEqualTo(os.uid());
    assertThat(self.startTime()).isEqualTo(os.startTime(os.pid()).orElseThrow());
  }

  @Test
  void theBootIdIsTheKernelsAndAFilesOwnerIsReadWithoutFollowingASymlink() throws Exception {
    assertThat(os.bootId()).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    var file = Files.writeString(workdir.resolve("f"), "x");
    assertThat(os.fileOwner(file)).isEqualTo(os.uid());
    var link = Files.createSymbolicLink(workdir.resolve("link"), Path.of("/proc/1/root-not-there"));
    assertThat(os.fileOwner(link))
        .as("a dangling link has an owner of its own")
        .isEqualTo(os.uid());
  }
}
