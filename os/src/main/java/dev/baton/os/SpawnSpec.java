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
 *
 * <p>The child also holds the read ends of its own stdout and stderr pipes, at {@link
 * #stdoutReadFd()} and {@link #stderrReadFd()}, right after the listeners. A pipe with a reader
 * never fails a write with EPIPE: if the supervisor dies, the app keeps running, and the next
 * supervisor takes the read ends back with pidfd_getfd and finds every line still in the pipe.
 */
public record SpawnSpec(
    List<String> argv, Map<String, String> env, Path workdir, Optional<Fd> stdin, List<Fd> listenFds) {
  public SpawnSpec {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("argv must name a program");
    }
    argv = List.copyOf(argv);
    env = Map.copyOf(env);
    listenFds = List.copyOf(listenFds);
  }

  public int stdoutReadFd() {
    return 3 + listenFds.size();
  }

  public int stderrReadFd() {
    return 4 + listenFds.size();
  }
}
