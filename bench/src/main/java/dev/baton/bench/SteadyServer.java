package dev.baton.bench;

import dev.baton.os.Os;
import dev.baton.os.Signal;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One server of a steady run: the sample bare, under the fork/exec parent, or under baton run,
 * started by bench through place.py so that every one is placed alike, on a loopback port of its
 * own, with its output in a log of its own.
 *
 * <p>It is ended by its process group. The app under a parent in a session of its own, or under
 * baton run, is in another group: it is remembered once it answers, and killed too if its parent
 * left it behind.
 */
final class SteadyServer implements AutoCloseable {
  private static final Duration GRACE = Duration.ofSeconds(30);

  /**
   * The servers of a run, in the order of the first round: each pair of a ratio side by side, or
   * nearly.
   */
  enum Role {
    BARE_A("A", "bare A", "bareA"),
    BARE_A2("A'", "bare A' (the A/A control)", "bareA2"),
    PARENT("parent", "fork/exec parent", "parent"),
    BATON("baton", "baton run", "baton"),
    PARENT_SETSID("parent+setsid", "fork/exec parent, setsid child", "parentSetsid");

    final String shortName;
    final String title;
    final String key;

    Role(String shortName, String title, String key) {
      this.shortName = shortName;
      this.title = title;
      this.key = key;
    }

    /** Whether the app is a child of what bench started, rather than what bench started itself. */
    boolean hasParent() {
      return this == PARENT || this == PARENT_SETSID || this == BATON;
    }
  }

  private final Role role;
  private final Process process;
  private final InetSocketAddress address;
  private final Path log;
  private final String appMarker;
  private final Os os;
  private Optional<ProcessHandle> app = Optional.empty();

  private SteadyServer(Role role, Process process, int port, Path log, String appMarker, Os os) {
    this.role = role;
    this.process = process;
    this.address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    this.log = log;
    this.appMarker = appMarker;
    this.os = os;
  }

  /**
   * Starts {@code argv} (place.py and what it runs) in {@code workdir}, with bench's environment
   * less anything a supervisor may have handed bench itself, plus {@code extraEnv}.
   *
   * @param appMarker a word of the app's command line, which tells it from its parent's other
   *     children
   */
  static SteadyServer start(
      Role role,
      List<String> argv,
      Map<String, String> extraEnv,
      Path workdir,
      Path log,
      int port,
      String appMarker,
      Os os) {
    var builder =
        new ProcessBuilder(argv)
            .directory(workdir.toFile())
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    var env = builder.environment();
    var clean = new HashMap<>(env);
    clean
        .keySet()
        .removeIf(
            key ->
                key.startsWith("LISTEN_")
                    || key.equals("NOTIFY_SOCKET")
                    || key.startsWith("BATON_"));
    env.clear();
    env.putAll(clean);
    env.putAll(extraEnv);
    try {
      return new SteadyServer(role, builder.start(), port, log, appMarker, os);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot start " + role.title + " (" + argv.getFirst() + "): " + e.getMessage(), e);
    }
  }

  Role role() {
    return role;
  }

  InetSocketAddress address() {
    return address;
  }

  Path log() {
    return log;
  }

  /**
   * Waits until GET / answers 200 and the app's process is found.
   *
   * @throws IllegalStateException when it exits or does not answer in time; names the log
   */
  void awaitReady(Duration timeout, java.util.function.BooleanSupplier stopped) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && !stopped.getAsBoolean()) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            role.title
                + " exited with status "
                + process.exitValue()
                + " before it answered on "
                + address
                + "; see "
                + log);
      }
      if (answers()) {
        app = findApp();
        if (app.isPresent()) {
          return;
        }
      }
      sleep(50);
    }
    if (stopped.getAsBoolean()) {
      throw new Children.Stopped();
    }
    throw new IllegalStateException(
        role.title
            + " did not answer GET / on "
            + address
            + " within "
            + timeout.toSeconds()
            + " s; see "
            + log);
  }

  /** Where the app itself sits: the process that accepts, not its parent. */
  Optional<Placement.Where> where() {
    return app.flatMap(a -> Placement.Where.of(a.pid()));
  }

  /** Where bench's own child sits: the app when bare, its parent otherwise. */
  Optional<Placement.Where> starterWhere() {
    return Placement.Where.of(process.pid());
  }

  private boolean answers() {
    try (var socket = new Socket()) {
      socket.connect(address, 1000);
      socket.setSoTimeout(2000);
      socket
          .getOutputStream()
          .write(
              "GET / HTTP/1.1\r\nHost: steady\r\nConnection: close\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      var head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
      return head.startsWith("HTTP/1.1 200");
    } catch (IOException e) {
      return false;
    }
  }

  private Optional<ProcessHandle> findApp() {
    if (!role.hasParent()) {
      // place.py became the app: the same pid.
      return Optional.of(process.toHandle());
    }
    return process
        .toHandle()
        .children()
        .filter(child -> commandLine(child.pid()).contains(appMarker))
        .findFirst();
  }

  private static String commandLine(long pid) {
    try {
      return new String(
              Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
              StandardCharsets.UTF_8)
          .replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * SIGTERM to the group, which drains (baton run drains its generation; the parent passes it on);
   * SIGKILL after the grace, and to an app its parent left behind. Only pids still running as the
   * processes bench saw are signalled: ProcessHandle compares their start times.
   */
  @Override
  public void close() {
    int pid = (int) process.pid();
    if (process.isAlive() && !os.signalGroup(pid, Signal.TERM)) {
      // place.py has not made its group yet.
      process.destroy();
    }
    try {
      if (!process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        os.signalGroup(pid, Signal.KILL);
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    if (app.isPresent() && app.get().pid() != pid && app.get().isAlive()) {
      var where = Placement.Where.of(app.get().pid());
      if (where.isPresent() && where.get().pgid() == where.get().pid()) {
        os.signalGroup(where.get().pid(), Signal.KILL);
      } else {
        app.get().destroyForcibly();
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Children.Stopped();
    }
  }

  @Override
  public String toString() {
    return role.title + " on " + address.getPort() + " (pid " + process.pid() + ")";
  }
}
