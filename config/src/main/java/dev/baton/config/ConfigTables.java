package dev.baton.config;

import dev.baton.config.Config.Agent;
import dev.baton.config.Config.App;
import dev.baton.config.Config.Bake;
import dev.baton.config.Config.Control;
import dev.baton.config.Config.Drain;
import dev.baton.config.Config.Listen;
import dev.baton.config.Config.Logs;
import dev.baton.config.Config.Metrics;
import dev.baton.config.Config.Park;
import dev.baton.config.Config.Pass;
import dev.baton.config.Config.Readiness;
import dev.baton.config.Config.Remote;
import dev.baton.config.Config.Restart;
import dev.baton.config.Config.Steer;
import dev.baton.config.Config.Warmup;
import dev.baton.os.ListenAddress;
import dev.baton.os.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One reader per table of baton.toml, each checking its own keys and values and naming the key in
 * its error; {@link Config#parse} puts them together.
 */
final class ConfigTables {
  private ConfigTables() {}

  /** [app]: argv, env and working directory. */
  static App app(TomlTable top, Path base) {
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
    return app;
  }

  /** Every [[listen]]: at least one, names unique, at most one on fd 0. */
  static List<Listen> listeners(TomlTable top, Path file) {
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
    return List.copyOf(listeners);
  }

  /** [readiness]: what makes a new generation ready. */
  static Readiness readiness(TomlTable top) {
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
    return readiness;
  }

  /** [drain]: the signal, the grace, and the bound on generations draining at once. */
  static Drain drain(TomlTable top) {
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
    return drain;
  }

  /** [restart]: the crash-restart backoff. */
  static Restart restart(TomlTable top) {
    var restartTable = top.tableOrEmpty("restart");
    restartTable.allow("backoff", "max_backoff");
    var restart =
        new Restart(
            restartTable.duration("backoff").orElse(Duration.ofMillis(100)),
            restartTable.duration("max_backoff").orElse(Duration.ofSeconds(10)));
    return restart;
  }

  /** [control]: the control socket, beside the file unless the service has a runtime directory. */
  static Control control(TomlTable top, Path base, @Nullable Path socketDefault) {
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
    return control;
  }

  /** [park]: how many generations are kept warm for a rollback, and for how long. */
  static Park park(TomlTable top) {
    var parkTable = top.tableOrEmpty("park");
    parkTable.allow("max", "ttl");
    int parkMax = parkTable.integer("max").orElse(1);
    if (parkMax < 0 || parkMax > 16) {
      throw parkTable.invalid("max", "must be from 0 (never park) to 16");
    }
    var park = new Park(parkMax, parkTable.duration("ttl").orElse(Duration.ofMinutes(10)));
    return park;
  }

  /** [bake], which probes the private listener, so needs [readiness] http. */
  static Optional<Bake> bake(TomlTable top, Path file, boolean probed) {
    var bake =
        top.table("bake")
            .map(
                t -> {
                  t.allow("duration", "interval", "failures");
                  if (!probed) {
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
    return bake;
  }

  /** [warmup], which sends to the private listener, so needs [readiness] http. */
  static Optional<Warmup> warmup(TomlTable top, Path file, boolean probed) {
    var warmup =
        top.table("warmup")
            .map(
                t -> {
                  t.allow("urls", "requests", "duration", "concurrency");
                  if (!probed) {
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
    return warmup;
  }

  /** [remote]: the HTTP control API and what a token holder may ask of it. */
  static Optional<Remote> remote(TomlTable top, Path base) {
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
    return remote;
  }

  /** [agent]: the HAProxy agent-check responder. */
  static Optional<Agent> agent(TomlTable top) {
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
    return agent;
  }

  /** [metrics]: the Prometheus endpoint. */
  static Optional<Metrics> metrics(TomlTable top) {
    var metrics =
        top.table("metrics")
            .map(
                t -> {
                  t.allow("address");
                  return new Metrics(t.tcpAddress("address", "127.0.0.1:9187"));
                });
    return metrics;
  }

  /** [logs]: where the generations' output goes, and its rotation. */
  static Logs logs(TomlTable top, Path base) {
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
    return logs;
  }
}
