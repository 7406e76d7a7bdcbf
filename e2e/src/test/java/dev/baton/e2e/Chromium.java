package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Debian's real Chromium, headless, as one process group per page load. It runs as root here, so
 * without its sandbox (which refuses root), and with HOME and its profile in a directory of the
 * test's own: nothing of the host's is read or written.
 */
final class Chromium {
  static final Path BINARY = Path.of("/usr/bin/chromium");
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final Path dir;
  private int runs;

  Chromium(Path dir) throws IOException {
    assertThat(BINARY)
        .as("Chromium is installed by .ci/run (apt-get install chromium)")
        .isExecutable();
    this.dir = Files.createDirectories(dir);
  }

  /** The page's DOM once it has loaded, as Chromium serializes it. */
  String dumpDom(String url) throws Exception {
    return run(List.of("--dump-dom", url)).stdoutText();
  }

  /** A PNG of the page at {@code width} x {@code height} CSS pixels, written to {@code png}. */
  void screenshot(String url, Path png, int width, int height) throws Exception {
    Files.deleteIfExists(png);
    run(
        List.of(
            "--screenshot=" + png.toAbsolutePath(),
            "--window-size=" + width + "," + height,
            "--hide-scrollbars",
            url));
    assertThat(png).as("the screenshot Chromium was to write").isRegularFile();
  }

  private OwnGroup run(List<String> args) throws Exception {
    var home = Files.createDirectories(dir.resolve("home-" + ++runs));
    var argv =
        new ArrayList<>(
            List.of(
                BINARY.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--user-data-dir=" + home.resolve("profile")));
    argv.addAll(args);
    var group = OwnGroup.start(dir, "chromium-" + runs, argv, Map.of("HOME", home.toString()));
    try {
      boolean exited = group.waitFor(TIMEOUT);
      assertThat(exited)
          .as("chromium finished within %s: %s", TIMEOUT, group.stderrText())
          .isTrue();
      assertThat(group.process.exitValue()).as(group.stderrText()).isZero();
      return group;
    } finally {
      try {
        group.close();
      } finally {
        endCrashHandlers(home);
      }
    }
  }

  /**
   * Chromium's crash handlers put themselves in sessions of their own, out of the group's reach;
   * they exit once Chromium has. Any that has not within 10 s is killed by its pid, and the test
   * fails: they are found by the HOME they were given, which is this run's alone.
   */
  private static void endCrashHandlers(Path home) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    var left = processesNaming(home);
    while (!left.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
      left = processesNaming(home);
    }
    for (int pid : left) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
    assertThat(left).as("processes naming %s still alive 10 s after Chromium", home).isEmpty();
  }

  /** Live processes whose command line names {@code path}. */
  static List<Integer> processesNaming(Path path) throws IOException {
    var needle = path.toString();
    try (var procs = Files.list(Path.of("/proc"))) {
      return procs
          .filter(p -> p.getFileName().toString().matches("\\d+"))
          .filter(
              p -> {
                try {
                  var stat = Files.readString(p.resolve("stat"));
                  if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) {
                    return false;
                  }
                  return Files.readString(p.resolve("cmdline")).replace('\0', ' ').contains(needle);
                } catch (IOException | RuntimeException e) {
                  return false;
                }
              })
          .map(p -> Integer.parseInt(p.getFileName().toString()))
          .toList();
    }
  }
}
