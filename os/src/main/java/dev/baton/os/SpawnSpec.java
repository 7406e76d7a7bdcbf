package dev.baton.os;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@link Os#spawn} starts.
 *
 * @param argv the program and its arguments; argv[0] is searched on PATH when it has no slash
 * @param env the whole environment; nothing is inherited implicitly
 * @param workdir the working directory
 * @param stdin the descriptor placed at fd 0, or /dev/null when empty
 * @param listenFds descriptors placed at fd 3, 4, ... in this order
 *     <p>The child also holds the read ends of its own stdout and stderr pipes, at {@link
 *     #stdoutReadFd()} and {@link #stderrReadFd()}, right after the listeners. A pipe with a reader
 *     never fails a write with EPIPE: if the supervisor dies, the app keeps running, and the next
 *     supervisor takes the read ends back with pidfd_getfd and finds every line still in the pipe.
 *     <p>The process leads a new process group in the supervisor's session, not a session of its
 *     own. Under autogroup scheduling (kernel.sched_autogroup_enabled=1) each session is one group
 *     for the CPU scheduler, so a generation in a session of its own would draw a CPU share of its
 *     own beside its supervisor's instead of sharing the service's one. Its own process group is
 *     enough for kill(-pgid) to reach every process it starts, and keeps it out of the terminal's
 *     foreground group, so Ctrl-C goes to the supervisor alone.
 */
public record SpawnSpec(
    List<String> argv,
    Map<String, String> env,
    Path workdir,
    Optional<Fd> stdin,
    List<Fd> listenFds) {
  public SpawnSpec {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv must name a program");
    }
    argv = List.copyOf(argv);
    env = Map.copyOf(env);
    listenFds = List.copyOf(listenFds);
  }

  int stdoutReadFd() {
    return 3 + listenFds.size();
  }

  int stderrReadFd() {
    return 4 + listenFds.size();
  }
}
