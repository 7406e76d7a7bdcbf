package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Os;
import dev.baton.os.Signal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An outside program (Prometheus, Chromium) started through setsid(1), so that it leads a session
 * and process group of its own: closing it signals that group by its id, which reaches every
 * process it forked (Chromium's zygotes, renderers and GPU process) and nothing else on the host.
 */
final class OwnGroup implements AutoCloseable {
  final Process process;
  final int pgid;
  final Path stdout;
  final Path stderr;

  private OwnGroup(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.pgid = (int) process.pid();
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Starts {@code argv} in its own session, its output in {@code name}.out and {@code .err}. */
  static OwnGroup start(Path dir, String name, List<String> argv, Map<String, String> env)
      throws IOException {
    var command = new ArrayList<String>();
    command.add("/usr/bin/setsid");
    command.addAll(argv);
    var stdout = dir.resolve(name + ".out");
    var stderr = dir.resolve(name + ".err");
    var builder =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile());
    builder.environment().putAll(env);
    var group = new OwnGroup(builder.start(), stdout, stderr);
    // setsid(1) forks when its caller already leads a group, and then this pid would not be the
    // program's and its group could not be found again; the JVM's children never lead one. Until
    // setsid(2) has run, the child is still in the JVM's group.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (group.process.isAlive() && System.nanoTime() < deadline) {
      var stat = Os.linux().processStat(group.pgid);
      if (stat.isPresent() && stat.get().group() == group.pgid) {
        return group;
      }
      Service.sleep(10);
    }
    if (group.process.isAlive()) {
      group.process.destroyForcibly();
      throw new AssertionError(name + " did not lead a process group of its own within 5 s");
    }
    return group;
  }

  /** Whether it exited within {@code timeout}. */
  boolean waitFor(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  String stdoutText() throws IOException {
    return Files.readString(stdout);
  }

  String stderrText() {
    try {
      return Files.readString(stderr);
    } catch (IOException e) {
      return "(no stderr: " + e + ")";
    }
  }

  /**
   * SIGTERM to the group, SIGKILL to whatever of it is left 5 s later; returns once no process of
   * the group is left, within 10 s more, or fails.
   */
  @Override
  public void close() throws IOException, InterruptedException {
    var os = Os.linux();
    if (Service.groupAlive(pgid)) {
      os.signalGroup(pgid, Signal.TERM);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (Service.groupAlive(pgid) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    }
    if (Service.groupAlive(pgid)) {
      os.signalGroup(pgid, Signal.KILL);
    }
    process.waitFor(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (Service.groupAlive(pgid) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(Service.groupAlive(pgid)).as("a process of group %d is left", pgid).isFalse();
  }
}
