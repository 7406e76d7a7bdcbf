package dev.baton.bench;

import dev.baton.os.Fd;
import dev.baton.os.NativeException;
import dev.baton.os.Os;
import dev.baton.os.SpawnSpec;
import java.io.Writer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Every process a bench run starts, so that none outlives it: a scenario's close, Ctrl-C and the
 * end of the run each end them all, by process group.
 */
final class Children implements AutoCloseable {
  private final Os os;
  private final List<Child> started = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  Children(Os os) {
    this.os = os;
  }

  Os os() {
    return os;
  }

  /**
   * Starts {@code argv} in its own session with this process's environment plus {@code env}, the
   * descriptors {@code listenFds} at 3.., its output into {@code log} and to {@code lines}.
   *
   * @throws IllegalStateException when the run is being stopped or the program cannot start
   */
  Child start(
      String name,
      List<String> argv,
      Map<String, String> env,
      Path workdir,
      List<Fd> listenFds,
      Writer log,
      Consumer<String> lines) {
    if (closed) {
      throw new Stopped();
    }
    var whole = new HashMap<>(System.getenv());
    // Bench's own environment may come from a shell that baton started; its listeners are not the
    // app's.
    whole
        .keySet()
        .removeIf(
            key ->
                key.startsWith("LISTEN_")
                    || key.equals("NOTIFY_SOCKET")
                    || key.startsWith("BATON_"));
    whole.putAll(env);
    try {
      var process = os.spawn(new SpawnSpec(argv, whole, workdir, Optional.empty(), listenFds));
      var child = new Child(name, process, os, log, lines);
      started.add(child);
      // Once the leader is gone, whatever it left in its group goes too, and the group is
      // forgotten:
      // a long run starts thousands of processes, and a stale pgid must never be signalled later.
      child
          .exit()
          .thenRun(
              () -> {
                os.signalGroup(child.pid(), dev.baton.os.Signal.KILL);
                started.remove(child);
              });
      if (closed) {
        child.end(Duration.ZERO);
        throw new Stopped();
      }
      return child;
    } catch (NativeException e) {
      throw new IllegalStateException(
          "cannot start " + name + " (" + argv.getFirst() + "): " + e.getMessage(), e);
    }
  }

  /** The run was stopped (Ctrl-C) while something was being started. */
  /** A loopback port free right now; the process bench starts next binds it moments later. */
  static int freePort() {
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("no free loopback port", e);
    }
  }

  /** Sleeps; an interrupt (Ctrl-C's shutdown hook) ends the run as {@link Stopped}. */
  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Stopped();
    }
  }

  static void deleteQuietly(java.nio.file.Path dir) {
    try (var paths = java.nio.file.Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException e) {
      // A temp dir left behind is harmless.
    }
  }

  static final class Stopped extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Stopped() {
      super("the bench run was stopped");
    }
  }

  /** Ends every process still running, by process group; TERM first, KILL after {@code grace}. */
  void endAll(Duration grace) {
    for (var child : started) {
      child.end(grace);
    }
    started.clear();
  }

  /** Stops starting anything and ends everything. Safe from a shutdown hook, and more than once. */
  @Override
  public void close() {
    closed = true;
    endAll(Duration.ofSeconds(10));
  }
}
