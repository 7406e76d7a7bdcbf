package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.Fd;
import dev.baton.os.ListenAddress;
import dev.baton.os.NativeException;
import dev.baton.os.Os;
import dev.baton.os.SpawnSpec;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts a generation: its argv checked on its PATH, its environment (NOTIFY_SOCKET,
 * BATON_GENERATION, BATON_CONTROL, BATON_DRAIN_TIMEOUT, LISTEN_FDS and LISTEN_FDNAMES), the
 * listeners at fds 3.. (or 0), and with an HTTP probe a private loopback listener of its own,
 * passed last as {@code baton-probe}.
 */
final class Spawner {
  private final Os os;
  private final ListenerSet listeners;
  private final Path notifySocket;
  private final Path appControl;

  Spawner(Os os, ListenerSet listeners, Path notifySocket, Path appControl) {
    this.os = os;
    this.listeners = listeners;
    this.notifySocket = notifySocket;
    this.appControl = appControl;
  }

  /**
   * @throws DeployException when the command is not there or cannot be started
   */
  Generation spawn(
      Config.App app, Config.Readiness readiness, Config.Drain drain, int number, Instant now) {
    var env = environment(app, drain, number);
    var argv = resolveCommand(app, env);
    var listenFds = new ArrayList<Fd>();
    var names = new ArrayList<String>();
    Optional<Fd> stdin = Optional.empty();
    var own = new LinkedHashMap<String, Fd>();
    var given = new ArrayList<Fd>();
    try {
      for (var b : listeners.all()) {
        var fd = b.steered() ? listeners.own().make(b, number) : b.fd();
        if (b.steered()) {
          own.put(b.config().name(), fd);
        }
        given.add(fd);
        if (b.config().pass() == Config.Pass.FD0) {
          stdin = Optional.of(fd);
        } else {
          listenFds.add(fd);
          names.add(b.config().name());
        }
      }
    } catch (DeployException e) {
      own.values().forEach(os::close);
      throw e;
    }
    Optional<Fd> probeFd = Optional.empty();
    InetSocketAddress probeAddress = null;
    if (readiness.http().isPresent()) {
      try {
        var fd =
            os.listen(
                new ListenAddress.Tcp(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), false),
                64);
        probeFd = Optional.of(fd);
        probeAddress = os.localAddress(fd);
      } catch (NativeException e) {
        own.values().forEach(os::close);
        throw new DeployException(
            "generation "
                + number
                + " could not start: its probe listener cannot be bound ("
                + e.getMessage()
                + ")");
      }
      listenFds.add(probeFd.get());
      names.add("baton-probe");
    }
    if (!listenFds.isEmpty()) {
      env.put("LISTEN_FDS", Integer.toString(listenFds.size()));
      env.put("LISTEN_FDNAMES", String.join(":", names));
      // LISTEN_PID must be the app's own pid, which is known only after the fork. The shim sets it
      // and execs the app in the same process; argv reaches the app word for word, never parsed.
      var shim =
          new ArrayList<>(List.of("/bin/sh", "-c", "export LISTEN_PID=$$; exec \"$0\" \"$@\""));
      shim.addAll(argv);
      argv = shim;
    }
    try {
      var process = os.spawn(new SpawnSpec(argv, env, app.workdir(), stdin, listenFds));
      var generation =
          new Generation(
              number,
              app,
              now,
              process,
              probeAddress,
              os.startTime(process.pid()).orElse(0),
              GenerationState.STARTING);
      generation.listeners = List.copyOf(given);
      generation.own = Map.copyOf(own);
      return generation;
    } catch (NativeException e) {
      own.values().forEach(os::close);
      throw new DeployException(
          "generation "
              + number
              + " could not start: "
              + e.getMessage()
              + "; check [app] command and workdir ("
              + app.workdir()
              + ")");
    } finally {
      // The generation holds its own copy. Without ours, a probe to a dead generation is refused
      // at once instead of waiting in a queue nobody will ever accept from.
      probeFd.ifPresent(os::close);
    }
  }

  private Map<String, String> environment(Config.App app, Config.Drain drain, int number) {
    var env = new HashMap<String, String>();
    os.environment()
        .forEach(
            (k, v) -> {
              if (!k.startsWith("LISTEN_")
                  && !k.equals("NOTIFY_SOCKET")
                  && !k.startsWith("BATON_")) {
                env.put(k, v);
              }
            });
    env.putAll(app.env());
    env.put("NOTIFY_SOCKET", notifySocket.toString());
    env.put("BATON_GENERATION", Integer.toString(number));
    // A generation that speaks BATON_CONTROL starts paused: it takes no public traffic before it
    // has passed readiness, probe and warm-up, and the supervisor resumes it at promotion.
    env.put("BATON_CONTROL", appControl.toString());
    env.put("BATON_START", "paused");
    // The grace period, so that an app can spread the closes of its long-lived connections over it.
    env.put("BATON_DRAIN_TIMEOUT", Long.toString(drain.timeout().toMillis()));
    if (Path.of(app.command().getFirst()).getFileName().toString().equals("java")) {
      // baton-app adopts fds 3.. through the JDK's own inherited-channel code, which needs this.
      var opens = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";
      env.merge("JDK_JAVA_OPTIONS", opens, (a, b) -> a.contains(b) ? a : a + " " + b);
    }
    return env;
  }

  /**
   * argv with argv[0] resolved on the generation's PATH, so a typo fails here with a clear reason.
   */
  private static List<String> resolveCommand(Config.App app, Map<String, String> env) {
    var argv = new ArrayList<>(app.command());
    var program = argv.getFirst();
    if (program.contains("/")) {
      var path = app.workdir().resolve(program);
      if (!Files.isExecutable(path)) {
        throw new DeployException(
            "command not found: '"
                + program
                + "' is not an executable file (from "
                + app.workdir()
                + "); fix [app] command or deploy -- COMMAND");
      }
      return argv;
    }
    var searchPath = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (var dir : searchPath.split(":")) {
      // A relative PATH entry is the generation's, so it is resolved from its workdir.
      var candidate = app.workdir().resolve(dir.isEmpty() ? "." : dir).resolve(program);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        argv.set(0, candidate.toString());
        return argv;
      }
    }
    throw new DeployException(
        "command not found: '"
            + program
            + "' is not on PATH ("
            + searchPath
            + "); install it, use an absolute path, or fix [app] command");
  }
}
