package dev.baton.supervisor;

import dev.baton.os.NativeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces the supervisor's program with the baton build now on disk, in the same process: its pid
 * (systemd's MainPID), its children and their listeners stay. The new image recovers from the state
 * journal exactly as after a crash, except that its generations are still its children.
 */
final class Upgrade {
  private static final Logger LOG = LoggerFactory.getLogger(Upgrade.class);

  private Upgrade() {}

  /**
   * Returns only by throwing: a {@link DeployException} saying why this supervisor keeps running.
   */
  static void run(Supervisor supervisor, Runnable beforeExec) {
    if (supervisor.isBusy()) {
      throw new DeployException(supervisor.busyMessage().replace("retry", "upgrade"));
    }
    if (supervisor.isStopping()) {
      throw new DeployException("the supervisor is stopping; it takes no upgrade");
    }
    List<String> argv;
    try {
      argv = List.of(Files.readString(Path.of("/proc/self/cmdline")).split("\u0000"));
    } catch (IOException e) {
      throw new DeployException("cannot read this supervisor's command line: " + e.getMessage());
    }
    // The loop is the only reader of the generations' pipes and it is here, between two reads:
    // what the readers hold of an unfinished line is all there is, and it goes in the journal.
    var carried = new HashMap<Integer, List<String>>();
    for (var g : supervisor.generations().live()) {
      carried.put(g.number, g.output.stream().map(GenerationOutput::partial).toList());
    }
    try {
      supervisor.journal(carried);
    } catch (UncheckedIOException e) {
      throw new DeployException(
          "upgrade refused, this supervisor keeps running: " + e.getMessage());
    }
    LOG.info("upgrading: re-executing {} as pid {}", argv.getFirst(), supervisor.os().pid());
    beforeExec.run();
    System.out.flush();
    System.err.flush();
    Map<String, String> env = new HashMap<>(supervisor.os().environment());
    env.put("BATON_UPGRADED_FROM", Integer.toString(supervisor.os().pid()));
    try {
      supervisor.os().exec(argv, env);
    } catch (NativeException e) {
      supervisor.journal();
      throw new DeployException("upgrade failed, this supervisor keeps running: " + e.getMessage());
    }
    throw new IllegalStateException("execve returned without an error");
  }
}
