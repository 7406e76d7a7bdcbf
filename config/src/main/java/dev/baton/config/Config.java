package dev.baton.config;

import dev.baton.os.ListenAddress;
import dev.baton.os.Signal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A service's baton.toml, checked whole before anything starts. Every key is known: a typo is an
 * error that names the file, the line and the key, never a silently ignored setting.
 */
public record Config(
    Path file,
    App app,
    List<Listen> listeners,
    Readiness readiness,
    Drain drain,
    Restart restart,
    Control control,
    Park park,
    Optional<Bake> bake,
    Optional<Warmup> warmup,
    Optional<Remote> remote,
    Optional<Agent> agent,
    Optional<Metrics> metrics,
    Logs logs) {

  /** How each generation is started. {@code command} is argv: it never goes through a shell. */
  public record App(List<String> command, Map<String, String> env, Path workdir) {
    public App {
      command = List.copyOf(command);
      env = Map.copyOf(env);
    }
  }

  /** How a generation receives a listener: systemd's LISTEN_FDS (fd 3..) or as its stdin. */
  public enum Pass {
    LISTEN_FDS,
    FD0
  }

  /**
   * Who picks the generation a new connection goes to: the kernel's one shared accept queue, or a
   * BPF program that sends every connection to the active generation's own socket.
   */
  public enum Steer {
    SHARED,
    BPF
  }

  public record Listen(String name, ListenAddress address, Pass pass, int backlog, Steer steer) {}

  /**
   * When a new generation counts as ready: READY=1 on NOTIFY_SOCKET, a 2xx from {@code http} on the
   * generation's private probe listener, both, or else having stayed alive for {@code alive}.
   */
  public record Readiness(
      boolean notifyReady, Optional<String> http, Duration timeout, Duration alive) {}

  /**
   * {@code settle}: with steered listeners, how long the old generation keeps running once its own
   * accept queue is empty before it is told to drain, to answer what it took before the switch.
   *
   * <p>{@code maxDraining}: how many generations may drain at once. When one more starts draining,
   * the oldest draining ones beyond it are hurried: told to finish now (DRAIN-NOW over
   * BATON_CONTROL, or the drain signal again), then SIGKILLed {@code hurry} later, or at the end of
   * their grace if that comes first. So a grace long enough for hour-long connections does not
   * leave one generation alive per deploy.
   */
  public record Drain(
      Signal signal, Duration timeout, Duration settle, int maxDraining, Duration hurry) {}

  /** Backoff for restarting an active generation that crashed: doubles from initial up to max. */
  public record Restart(Duration initial, Duration max) {}

  public record Control(Path socket) {}

  /**
   * Generations that use baton-app are parked at promotion instead of drained: alive, warm, not
   * accepting, for an instant rollback. At most {@code max} are kept, each for at most {@code ttl}.
   */
  public record Park(int max, Duration ttl) {}

  /**
   * After promotion the new generation keeps being probed on its private listener for {@code
   * duration}; {@code failures} failed probes in a row, or an exit, roll it back on their own.
   */
  public record Bake(Duration duration, Duration interval, int failures) {}

  /**
   * Requests sent to a new generation's private listener before promotion, so that its first public
   * requests don't pay for a cold JIT: {@code requests} in all, or for at most {@code duration},
   * spread over {@code urls}.
   */
  public record Warmup(List<String> urls, int requests, Duration duration, int concurrency) {}

  /**
   * The HTTP/JSON control API for rollouts from other hosts: the control socket's commands, behind
   * a bearer token read from a file that must be mode 0600. Loopback unless configured otherwise.
   *
   * <p>A token holder can deploy, so what a remote deploy may choose is narrowed: unless {@code
   * allowArgv}, it runs the configured {@code [app] command}, and it may set only the environment
   * keys in {@code allowEnv}. Off loopback the API needs TLS unless {@code insecure} says that the
   * token may cross the network in clear.
   */
  public record Remote(
      InetSocketAddress address,
      Path tokenFile,
      Optional<Path> tlsKeystore,
      Optional<Path> tlsPasswordFile,
      boolean allowArgv,
      List<String> allowEnv,
      boolean insecure) {
    public Remote {
      allowEnv = List.copyOf(allowEnv);
    }
  }

  /**
   * The HAProxy agent-check responder: "drain" while this host deploys, "up"/"ready" with weight
   * otherwise.
   */
  public record Agent(InetSocketAddress address, int weight) {}

  /**
   * Prometheus metrics at /metrics and a read-only status page at /, with no token: nothing served
   * there changes anything. Loopback unless the address says otherwise.
   */
  public record Metrics(InetSocketAddress address) {}

  /**
   * Where the generations' output goes: without {@code file}, into the supervisor's own log as
   * before; with it, appended to that file, which is rotated once it would pass {@code maxSize}
   * bytes or has been written for {@code rotateEvery}, keeping {@code keep} rotated files
   * (app.log.1 the newest). {@code json} writes the supervisor's own log as JSON lines.
   */
  public record Logs(
      Optional<Path> file, long maxSize, Optional<Duration> rotateEvery, int keep, boolean json) {}

  public static Config load(Path file) {
    return load(file, null);
  }

  /**
   * As {@link #load(Path)}, with the control socket at {@code socketDefault} when the file names
   * none (a service's runtime directory), instead of beside the file.
   */
  public static Config load(Path file, @Nullable Path socketDefault) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          file + ": no such file; create it (see README.md, 'Configuration') or pass -c FILE");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
    }
    return parse(file, text, socketDefault);
  }

  /** The tables a baton.toml may have; any other is refused by name. */
  static final List<String> TABLES =
      List.of(
          "app",
          "listen",
          "readiness",
          "drain",
          "restart",
          "control",
          "park",
          "bake",
          "warmup",
          "remote",
          "agent",
          "metrics",
          "logs");

  public static Config parse(Path file, String text) {
    return parse(file, text, null);
  }

  static Config parse(Path file, String text, @Nullable Path socketDefault) {
    var base =
        Objects.requireNonNull(file.toAbsolutePath().getParent(), "an absolute file has a parent");
    var top = TomlTable.parse(file, text);
    top.allow(TABLES.toArray(String[]::new));

    var readiness = ConfigTables.readiness(top);
    boolean probed = readiness.http().isPresent();
    return new Config(
        file,
        ConfigTables.app(top, base),
        ConfigTables.listeners(top, file),
        readiness,
        ConfigTables.drain(top),
        ConfigTables.restart(top),
        ConfigTables.control(top, base, socketDefault),
        ConfigTables.park(top),
        ConfigTables.bake(top, file, probed),
        ConfigTables.warmup(top, file, probed),
        ConfigTables.remote(top, base),
        ConfigTables.agent(top),
        ConfigTables.metrics(top),
        ConfigTables.logs(top, base));
  }
}
