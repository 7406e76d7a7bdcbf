package dev.baton.config;

import dev.baton.os.ListenAddress;
import dev.baton.os.Signal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
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

    var appTable =
        top.table("app").orElseThrow(() -> top.missing("[app]", "command = [\"./server\"]"));
    appTable.allow("command", "env", "workdir");
    var command =
        appTable
            .argv("command")
            .orElseThrow(() -> appTable.missing("command", "command = [\"./server\", \"--flag\"]"));
    var app =
        new App(
            command,
            appTable.stringMap("env"),
            appTable.path("workdir", base).orElse(base.normalize()));

    var listeners = new ArrayList<Listen>();
    var names = new HashSet<String>();
    for (var listen : top.tables("listen")) {
      listen.allow("name", "address", "pass", "reuse_port", "backlog", "steer");
      var name = listen.string("name").orElse("http");
      if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
        throw listen.invalid("name", "must be 1-64 letters, digits, '_', '.' or '-'");
      }
      if (!names.add(name)) {
        throw listen.invalid(
            "name", "'" + name + "' is used by two [[listen]] entries; names must be unique");
      }
      var addressText =
          listen
              .string("address")
              .orElseThrow(() -> listen.missing("address", "address = \"127.0.0.1:8080\""));
      ListenAddress address;
      try {
        address = ListenAddress.parse(addressText, listen.bool("reuse_port").orElse(false));
      } catch (IllegalArgumentException e) {
        throw listen.invalid("address", e.getMessage());
      }
      var pass =
          switch (listen.string("pass").orElse("listen-fds")) {
            case "listen-fds" -> Pass.LISTEN_FDS;
            case "fd0" -> Pass.FD0;
            default ->
                throw listen.invalid("pass", "must be \"listen-fds\" (the default) or \"fd0\"");
          };
      var backlog = listen.integer("backlog").orElse(4096);
      if (backlog < 1 || backlog > 65535) {
        throw listen.invalid("backlog", "must be between 1 and 65535");
      }
      var steer =
          switch (listen.string("steer").orElse("shared")) {
            case "shared" -> Steer.SHARED;
            case "bpf" -> Steer.BPF;
            default -> throw listen.invalid("steer", "must be \"shared\" (the default) or \"bpf\"");
          };
      if (steer == Steer.BPF && !(address instanceof ListenAddress.Tcp)) {
        throw listen.invalid("steer", "\"bpf\" steers TCP listeners only; use \"shared\"");
      }
      listeners.add(new Listen(name, address, pass, backlog, steer));
    }
    if (listeners.isEmpty()) {
      throw top.missing(
          "[[listen]]", "[[listen]]\\nname = \"http\"\\naddress = \"127.0.0.1:8080\"");
    }
    if (listeners.stream().filter(l -> l.pass() == Pass.FD0).count() > 1) {
      throw new ConfigException(
          file + ": only one [[listen]] can have pass = \"fd0\": a process has one fd 0");
    }

    var ready = top.tableOrEmpty("readiness");
    ready.allow("notify", "http", "timeout", "alive");
    var http = ready.string("http");
    if (http.isPresent() && !http.get().startsWith("/")) {
      throw ready.invalid(
          "http", "must be a path on the generation's probe listener, e.g. \"/healthz\"");
    }
    var readiness =
        new Readiness(
            ready.bool("notify").orElse(false),
            http,
            ready.duration("timeout").orElse(Duration.ofSeconds(30)),
            ready.duration("alive").orElse(Duration.ofSeconds(1)));

    var drainTable = top.tableOrEmpty("drain");
    drainTable.allow("signal", "timeout", "settle", "max_draining", "hurry");
    Signal signal;
    try {
      signal = Signal.parse(drainTable.string("signal").orElse("TERM"));
    } catch (IllegalArgumentException e) {
      throw drainTable.invalid("signal", e.getMessage());
    }
    int maxDraining = drainTable.integer("max_draining").orElse(2);
    if (maxDraining < 1) {
      throw drainTable.invalid(
          "max_draining",
          "must be at least 1: the generations left to drain at once (older ones are hurried)");
    }
    var drain =
        new Drain(
            signal,
            drainTable.duration("timeout").orElse(Duration.ofSeconds(10)),
            drainTable.duration("settle").orElse(Duration.ofMillis(100)),
            maxDraining,
            drainTable.duration("hurry").orElse(Duration.ofSeconds(5)));

    var restartTable = top.tableOrEmpty("restart");
    restartTable.allow("backoff", "max_backoff");
    var restart =
        new Restart(
            restartTable.duration("backoff").orElse(Duration.ofMillis(100)),
            restartTable.duration("max_backoff").orElse(Duration.ofSeconds(10)));

    var controlTable = top.tableOrEmpty("control");
    controlTable.allow("socket");
    var control =
        new Control(
            controlTable
                .path("socket", base)
                .orElse(
                    socketDefault != null
                        ? socketDefault
                        : base.resolve("baton.sock").normalize()));

    var parkTable = top.tableOrEmpty("park");
    parkTable.allow("max", "ttl");
    int parkMax = parkTable.integer("max").orElse(1);
    if (parkMax < 0 || parkMax > 16) {
      throw parkTable.invalid("max", "must be from 0 (never park) to 16");
    }
    var park = new Park(parkMax, parkTable.duration("ttl").orElse(Duration.ofMinutes(10)));

    var bake =
        top.table("bake")
            .map(
                t -> {
                  t.allow("duration", "interval", "failures");
                  if (http.isEmpty()) {
                    throw new ConfigException(
                        file
                            + ": [bake] probes the new generation on its private listener; set [readiness] http too");
                  }
                  int failures = t.integer("failures").orElse(2);
                  if (failures < 1) {
                    throw t.invalid("failures", "must be at least 1");
                  }
                  return new Bake(
                      t.duration("duration").orElse(Duration.ofSeconds(30)),
                      t.duration("interval").orElse(Duration.ofSeconds(1)),
                      failures);
                });

    var warmup =
        top.table("warmup")
            .map(
                t -> {
                  t.allow("urls", "requests", "duration", "concurrency");
                  if (http.isEmpty()) {
                    throw new ConfigException(
                        file
                            + ": [warmup] sends its requests to the generation's private listener; set [readiness] http too");
                  }
                  var urls = t.strings("urls").orElse(List.of("/"));
                  if (urls.isEmpty() || urls.stream().anyMatch(u -> !u.startsWith("/"))) {
                    throw t.invalid("urls", "must be paths such as [\"/\", \"/api/items\"]");
                  }
                  int requests = t.integer("requests").orElse(1000);
                  int concurrency = t.integer("concurrency").orElse(2);
                  if (requests < 1 || concurrency < 1 || concurrency > 64) {
                    throw t.invalid(
                        requests < 1 ? "requests" : "concurrency",
                        requests < 1 ? "must be at least 1" : "must be from 1 to 64");
                  }
                  return new Warmup(
                      urls,
                      requests,
                      t.duration("duration").orElse(Duration.ofSeconds(10)),
                      concurrency);
                });

    var remote =
        top.table("remote")
            .map(
                t -> {
                  t.allow(
                      "address",
                      "token_file",
                      "tls_keystore",
                      "tls_password_file",
                      "allow_argv",
                      "allow_env",
                      "insecure");
                  var tokenFile =
                      t.path("token_file", base)
                          .orElseThrow(
                              () ->
                                  t.missing(
                                      "token_file",
                                      "token_file = \"/etc/baton/token\" (a file with mode 0600)"));
                  var allowEnv = t.strings("allow_env").orElse(List.of());
                  for (var key : allowEnv) {
                    if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                      throw t.invalid(
                          "allow_env",
                          "must list environment variable names such as [\"LOG_LEVEL\"], not '"
                              + key
                              + "'");
                    }
                  }
                  return new Remote(
                      t.tcpAddress("address", "127.0.0.1:7070"),
                      tokenFile,
                      t.path("tls_keystore", base),
                      t.path("tls_password_file", base),
                      t.bool("allow_argv").orElse(false),
                      allowEnv,
                      t.bool("insecure").orElse(false));
                });
    var agent =
        top.table("agent")
            .map(
                t -> {
                  t.allow("address", "weight");
                  int weight = t.integer("weight").orElse(100);
                  if (weight < 0 || weight > 256) {
                    throw t.invalid("weight", "must be from 0 to 256 (HAProxy's weight range)");
                  }
                  return new Agent(t.tcpAddress("address", "127.0.0.1:7071"), weight);
                });

    var metrics =
        top.table("metrics")
            .map(
                t -> {
                  t.allow("address");
                  return new Metrics(t.tcpAddress("address", "127.0.0.1:9187"));
                });

    var logsTable = top.tableOrEmpty("logs");
    logsTable.allow("file", "max_size", "rotate_every", "keep", "json");
    int keep = logsTable.integer("keep").orElse(5);
    if (keep < 1 || keep > 1000) {
      throw logsTable.invalid("keep", "must be from 1 to 1000 rotated files");
    }
    var logs =
        new Logs(
            logsTable.path("file", base),
            logsTable.size("max_size").orElse(100L << 20),
            logsTable.duration("rotate_every"),
            keep,
            logsTable.bool("json").orElse(false));

    return new Config(
        file,
        app,
        List.copyOf(listeners),
        readiness,
        drain,
        restart,
        control,
        park,
        bake,
        warmup,
        remote,
        agent,
        metrics,
        logs);
  }
}
