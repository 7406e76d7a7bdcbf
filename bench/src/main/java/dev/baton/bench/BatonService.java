package dev.baton.bench;

import dev.baton.config.Config;
import dev.baton.os.Signal;
import dev.baton.protocol.ControlClient;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The app under a real supervisor, {@code baton run}, replaced by deploys over its control socket.
 * Either bench starts the supervisor, with the sample, in the scenario's directory; or it attaches
 * to a service already running from the user's baton.toml, and leaves it running afterwards.
 */
final class BatonService implements ServiceUnderTest {
  /** A deploy that takes longer than this is a failed reload, not a hung bench. */
  private static final Duration DEPLOY_TIMEOUT = Duration.ofSeconds(60);

  private final ControlClient control;

  /** The supervisor bench started; null when it attached to a running service. */
  private final @Nullable Child supervisor;

  private final InetSocketAddress address;
  private final int supervisorPid;
  private final Consumer<DeployEvent> events;

  /** Every generation pid seen, so that none survives a supervisor that had to be killed. */
  private final Set<Integer> generationPids = ConcurrentHashMap.newKeySet();

  private BatonService(
      ControlClient control,
      @Nullable Child supervisor,
      InetSocketAddress address,
      int supervisorPid,
      Consumer<DeployEvent> events) {
    this.control = control;
    this.supervisor = supervisor;
    this.address = address;
    this.supervisorPid = supervisorPid;
    this.events = events;
  }

  /**
   * The supervisor's config for the sample: one loopback listener on {@code port}, ready as the
   * sample says.
   */
  static String sampleConfig(Sample sample, int port, List<String> options) {
    return sampleConfig(sample, port, options, Config.Steer.SHARED);
  }

  /**
   * The same with the listener steered as {@code steer} says; nothing else differs, so [drain] and
   * [park] are the defaults in both (park max 1: a BPF-steered generation that does not speak
   * BATON_CONTROL is parked, a shared one drained).
   */
  static String sampleConfig(Sample sample, int port, List<String> options, Config.Steer steer) {
    return """
        # Written by baton bench: the bundled %s sample under a real supervisor.
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:%d"
        %s
        [readiness]
        %s
        [drain]
        timeout = "15s"

        [control]
        socket = "baton.sock"
        """
        .formatted(
            sample.kind(),
            toml(sample.argv(options)),
            port,
            steer == Config.Steer.BPF ? "steer = \"bpf\"\n" : "",
            sample.readiness());
  }

  /**
   * {@code java}, the flags baton run ships with, this JVM's class path, then {@code mainAndArgs}.
   */
  static List<String> supervisorCommand(String java, String... mainAndArgs) {
    var argv = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
    argv.addAll(SupervisorFlags.get());
    argv.addAll(List.of("-cp", System.getProperty("java.class.path")));
    argv.addAll(List.of(mainAndArgs));
    return argv;
  }

  /** The java launcher of this JVM, which runs the supervisor and the JVM sample. */
  static Path java() {
    return ProcessHandle.current()
        .info()
        .command()
        .map(Path::of)
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
  }

  private static String toml(List<String> words) {
    var quoted = new ArrayList<String>();
    for (var w : words) {
      quoted.add("\"" + w.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
    }
    return "[" + String.join(", ", quoted) + "]";
  }

  /**
   * Starts {@code baton run} with the sample in {@code dir}, through the CLI's main class on this
   * JVM's class path, with the same JVM options as bin/baton, its listener steered as {@code steer}
   * says, and waits for its first generation.
   */
  static BatonService start(
      Children children,
      Sample sample,
      Path dir,
      Writer log,
      int port,
      List<String> options,
      Config.Steer steer,
      Consumer<DeployEvent> events) {
    return start(children, sampleConfig(sample, port, options, steer), dir, log, events);
  }

  /**
   * Starts {@code baton run} with {@code config}, written to baton.toml in {@code dir}, whose
   * control socket must be baton.sock there, and waits for its first generation.
   */
  static BatonService start(
      Children children, String config, Path dir, Writer log, Consumer<DeployEvent> events) {
    var file = dir.resolve("baton.toml");
    try {
      Files.writeString(file, config);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    var argv =
        supervisorCommand(java().toString(), "dev.baton.cli.Main", "run", "-c", file.toString());
    var child = children.start("baton run", argv, Map.of(), dir, List.of(), log, line -> {});
    var control = new ControlClient(dir.resolve("baton.sock"));
    var status = awaitActive(control, child, Duration.ofSeconds(60));
    var service =
        new BatonService(control, child, addressOf(status), status.supervisorPid(), events);
    for (var generation : status.generations()) {
      service.generationPids.add(generation.pid());
    }
    return service;
  }

  /**
   * Attaches to the running service of {@code configFile}.
   *
   * @throws IllegalArgumentException when it is not running or has no TCP listener
   */
  static BatonService attach(Path configFile, Consumer<DeployEvent> events) {
    Config config;
    try {
      config = Config.load(configFile);
    } catch (dev.baton.config.ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    var control = new ControlClient(config.control().socket());
    Status status;
    try {
      status = status(control);
    } catch (ControlClient.ControlException e) {
      throw new IllegalArgumentException(e.getMessage());
    }
    if (status.activeGeneration().isEmpty()) {
      throw new IllegalArgumentException(
          "the service of "
              + configFile
              + " has no active generation to bench;"
              + " deploy one first ('baton deploy -c "
              + configFile
              + "')");
    }
    return new BatonService(
        control, /* supervisor= */ null, addressOf(status), status.supervisorPid(), events);
  }

  private static Status status(ControlClient control) {
    return switch (control.call(new Request.GetStatus(), e -> {})) {
      case Reply.StatusReply(var status) -> status;
      case Reply.Failed(var error) ->
          throw new IllegalStateException("baton status failed: " + error);
      case Reply other ->
          throw new IllegalStateException("the supervisor answered status with " + other);
    };
  }

  private static Status awaitActive(ControlClient control, Child supervisor, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!supervisor.alive()) {
        throw new IllegalStateException(
            "baton run exited before its first generation was active: "
                + supervisor.exit().join()
                + "; see the scenario's log");
      }
      try {
        var status = status(control);
        if (status.activeGeneration().isPresent()) {
          return status;
        }
      } catch (ControlClient.ControlException e) {
        // Not listening yet.
      }
      sleep(50);
    }
    throw new IllegalStateException(
        "baton run had no active generation after "
            + timeout.toSeconds()
            + " s; see the scenario's log");
  }

  private static InetSocketAddress addressOf(Status status) {
    for (var listener : status.listeners()) {
      var text = listener.address();
      if (!text.startsWith("unix:") && !listener.name().equals("baton-probe")) {
        int colon = text.lastIndexOf(':');
        var host = text.substring(0, colon).replace("[", "").replace("]", "");
        if (host.equals("0.0.0.0")) {
          host = "127.0.0.1";
        } else if (host.equals("::")) {
          host = "::1";
        }
        return new InetSocketAddress(host, Integer.parseInt(text.substring(colon + 1)));
      }
    }
    throw new IllegalArgumentException(
        "the service has no TCP listener to load; bench speaks HTTP over TCP");
  }

  /** The supervisor's status now. */
  Status status() {
    return status(control);
  }

  @Override
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public Optional<Integer> supervisorPid() {
    return Optional.of(supervisorPid);
  }

  /**
   * Sends a deploy that also waits for the old generation's drain, on its own thread: the reply to
   * the next deploy must not wait for this drain, and the supervisor takes the next deploy as soon
   * as this one has promoted.
   */
  @Override
  public CompletableFuture<Reload> redeploy() {
    var switched = new CompletableFuture<Long>();
    var done = new CompletableFuture<Reload>();
    Thread.ofVirtual()
        .name("deploy")
        .start(
            () -> {
              long asked = System.nanoTime();
              var steps = new Steps();
              try {
                Reply reply;
                // The supervisor says "promoted" a moment before it takes the next deploy; a
                // deploy that finds it still busy is asked again, and timed from the attempt that
                // was taken. With a steered listener that moment lasts until the old generation
                // has settled ([drain] settle, 100 ms or more), so the asking backs off to every
                // 10 ms rather than cost the supervisor a control call every 2 ms meanwhile.
                for (int attempt = 0; ; attempt++) {
                  long attemptNanos = System.nanoTime();
                  reply =
                      control.call(
                          new Request.Deploy(Optional.empty(), Map.of(), true),
                          event -> {
                            long now = System.nanoTime();
                            events.accept(event);
                            generationPids.add(event.pid());
                            steps.take(event, now, attemptNanos);
                            if (event.step() == DeployStep.PROMOTED) {
                              switched.complete(now);
                            }
                          });
                  asked = attemptNanos;
                  if (steps.generation != 0
                      || !(reply instanceof Reply.Failed(var error))
                      || attempt >= 2000
                      || !error.contains("already in progress")) {
                    break;
                  }
                  Thread.sleep(Math.min(10, 2L << Math.min(attempt, 3)));
                }
                switched.complete(System.nanoTime());
                if (reply instanceof Reply.Failed(var error)) {
                  steps.failure = Optional.of(error);
                }
                done.complete(steps.reload(switched.join(), asked));
              } catch (RuntimeException | InterruptedException e) {
                switched.complete(System.nanoTime());
                steps.failure = Optional.of(String.valueOf(e.getMessage()));
                done.complete(steps.reload(switched.join(), asked));
              }
            });
    try {
      switched.get(DEPLOY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // The deploy thread reports what happened.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return done;
  }

  /** The steps of one deploy, as its events arrive. */
  private static final class Steps {
    int generation;
    OptionalDouble spawned = OptionalDouble.empty();
    OptionalDouble ready = OptionalDouble.empty();
    OptionalDouble promoted = OptionalDouble.empty();
    OptionalDouble drained = OptionalDouble.empty();
    Optional<String> failure = Optional.empty();

    void take(DeployEvent event, long nowNanos, long askedNanos) {
      // Timed by bench, from the moment it asked: command to step, the supervisor's own time plus
      // the
      // control socket's, which is what an operator waits.
      var at = OptionalDouble.of((nowNanos - askedNanos) / 1e6);
      switch (event.step()) {
        case SPAWNED -> {
          spawned = at;
          generation = event.generation();
        }
        case READY -> ready = at;
        case PROMOTED -> promoted = at;
        case DRAINED, PARKED -> drained = drained.isPresent() ? drained : at;
        case FAILED -> failure = Optional.of(event.detail());
        default -> {}
      }
    }

    Reload reload(long switchNanos, long askedNanos) {
      return new Reload(
          generation, askedNanos, switchNanos, spawned, ready, promoted, drained, failure);
    }
  }

  /**
   * Stops a supervisor bench started, which drains its generations; kills whatever is left, by
   * process group. A service bench attached to is left running.
   */
  @Override
  public void close() {
    if (supervisor == null) {
      return;
    }
    supervisor.end(Duration.ofSeconds(30));
    var os = dev.baton.os.Os.linux();
    for (var pid : generationPids) {
      if (pid > 1 && ProcessHandle.of(pid).isPresent()) {
        os.signalGroup(pid, Signal.KILL);
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
}
