package dev.baton.config;

import dev.baton.os.ListenAddress;
import dev.baton.os.Signal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.toml.TomlMapper;

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

  public record Listen(String name, ListenAddress address, Pass pass, int backlog) {}

  /**
   * When a new generation counts as ready: READY=1 on NOTIFY_SOCKET, a 2xx from {@code http} on the
   * generation's private probe listener, both, or else having stayed alive for {@code alive}.
   */
  public record Readiness(
      boolean notifyReady, Optional<String> http, Duration timeout, Duration alive) {}

  public record Drain(Signal signal, Duration timeout) {}

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
   * Where the generations' output goes: without {@code file}, into the supervisor's own log as
   * before; with it, appended to that file, which is rotated once it would pass {@code maxSize}
   * bytes or has been written for {@code rotateEvery}, keeping {@code keep} rotated files
   * (app.log.1 the newest). {@code json} writes the supervisor's own log as JSON lines.
   */
  public record Logs(
      Optional<Path> file, long maxSize, Optional<Duration> rotateEvery, int keep, boolean json) {}

  public static Config load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          file + ": no such file; create it (see README.md, 'Configuration') or pass -c FILE");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
    }
    return parse(file, text);
  }

  public static Config parse(Path file, String text) {
    JsonNode root;
    try {
      root = new TomlMapper().readTree(text);
    } catch (JacksonException e) {
      var where = e.getLocation() == null ? "" : ":" + e.getLocation().getLineNr();
      throw new ConfigException(file + where + ": not valid TOML: " + e.getOriginalMessage(), e);
    }
    var base = file.toAbsolutePath().getParent();
    var top = new Table(file, text, "", root);
    top.allow(
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
        "logs");

    var appTable =
        top.table("app").orElseThrow(() -> top.missing("[app]", "command = [\"./server\"]"));
    appTable.allow("command", "env", "workdir");
    var command = appTable.strings("command");
    if (command.isEmpty()) {
      throw appTable.invalid(
          "command", "must name a program, e.g. command = [\"./server\", \"--port\", \"0\"]");
    }
    var app =
        new App(
            command,
            appTable.stringMap("env"),
            appTable.path("workdir", base).orElse(base.normalize()));

    var listeners = new ArrayList<Listen>();
    var names = new HashSet<String>();
    for (var listen : top.tables("listen")) {
      listen.allow("name", "address", "pass", "reuse_port", "backlog");
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
      listeners.add(new Listen(name, address, pass, backlog));
    }
    if (listeners.isEmpty()) {
      throw top.missing(
          "[[listen]]", "[[listen]]\\nname = \"http\"\\naddress = \"127.0.0.1:8080\"");
    }
    if (listeners.stream().filter(l -> l.pass() == Pass.FD0).count() > 1) {
      throw new ConfigException(
          file + ": only one [[listen]] can have pass = \"fd0\": a process has one fd 0");
    }

    var ready = top.table("readiness").orElse(Table.empty(file, text, "readiness"));
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

    var drainTable = top.table("drain").orElse(Table.empty(file, text, "drain"));
    drainTable.allow("signal", "timeout");
    Signal signal;
    try {
      signal = Signal.parse(drainTable.string("signal").orElse("TERM"));
    } catch (IllegalArgumentException e) {
      throw drainTable.invalid("signal", e.getMessage());
    }
    var drain = new Drain(signal, drainTable.duration("timeout").orElse(Duration.ofSeconds(10)));

    var restartTable = top.table("restart").orElse(Table.empty(file, text, "restart"));
    restartTable.allow("backoff", "max_backoff");
    var restart =
        new Restart(
            restartTable.duration("backoff").orElse(Duration.ofMillis(100)),
            restartTable.duration("max_backoff").orElse(Duration.ofSeconds(10)));

    var controlTable = top.table("control").orElse(Table.empty(file, text, "control"));
    controlTable.allow("socket");
    var control =
        new Control(
            controlTable.path("socket", base).orElse(base.resolve("baton.sock").normalize()));

    var parkTable = top.table("park").orElse(Table.empty(file, text, "park"));
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
                  var urls = t.node.get("urls") == null ? List.of("/") : t.strings("urls");
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
                  var allowEnv =
                      t.node.get("allow_env") == null ? List.<String>of() : t.strings("allow_env");
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

    var logsTable = top.table("logs").orElse(Table.empty(file, text, "logs"));
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
        logs);
  }

  /** Parses "250ms", "10s", "2m", "1h", "1d" or a bare number of seconds. */
  public static Duration parseDuration(String text) {
    var m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h|d)?").matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration; write e.g. \"250ms\", \"10s\" or \"2m\"");
    }
    var unit = m.group(2) == null ? "s" : m.group(2);
    try {
      long n = Long.parseLong(m.group(1));
      return switch (unit) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    } catch (ArithmeticException | NumberFormatException e) {
      // Found by ConfigFuzzTest: "9223372036854775807h" overflowed into an ArithmeticException.
      throw new IllegalArgumentException(
          "'" + text + "' is longer than any duration baton can wait; write e.g. \"10s\"");
    }
  }

  /** Parses "100MB", "512KB", "1GB" (powers of 1024, "B" optional) or a bare number of bytes. */
  public static long parseSize(String text) {
    var m =
        java.util.regex.Pattern.compile(
                "(\\d{1,12})\\s*([KMG]i?)?B?", java.util.regex.Pattern.CASE_INSENSITIVE)
            .matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a size; write e.g. \"100MB\", \"512KB\" or \"1GB\"");
    }
    long n = Long.parseLong(m.group(1));
    var unit =
        m.group(2) == null ? "" : m.group(2).substring(0, 1).toUpperCase(java.util.Locale.ROOT);
    return switch (unit) {
      case "K" -> n << 10;
      case "M" -> n << 20;
      case "G" -> n << 30;
      default -> n;
    };
  }

  /**
   * The longest duration a setting may have: ten years, far inside what Duration's nanoseconds
   * hold.
   */
  private static final Duration LONGEST = Duration.ofDays(3650);

  /** One TOML table, with the text it came from so that errors can name a line. */
  private record Table(Path file, String text, String path, JsonNode node) {

    static Table empty(Path file, String text, String path) {
      return new Table(file, text, path, new TomlMapper().createObjectNode());
    }

    void allow(String... keys) {
      var known = List.of(keys);
      for (var key : node.propertyNames()) {
        if (!known.contains(key)) {
          var hint = closest(key, known).map(k -> "did you mean '" + k + "'? ").orElse("");
          throw new ConfigException(
              where(key)
                  + ": unknown key '"
                  + key
                  + "' in "
                  + describe()
                  + "; "
                  + hint
                  + "known keys: "
                  + String.join(", ", known));
        }
      }
    }

    Optional<Table> table(String key) {
      var child = node.get(key);
      if (child == null) {
        return Optional.empty();
      }
      if (!child.isObject()) {
        throw invalid(key, "must be a table: [" + key + "]");
      }
      return Optional.of(new Table(file, text, key, child));
    }

    List<Table> tables(String key) {
      var child = node.get(key);
      if (child == null) {
        return List.of();
      }
      if (!child.isArray()) {
        throw invalid(key, "must be an array of tables: [[" + key + "]]");
      }
      var tables = new ArrayList<Table>();
      for (int i = 0; i < child.size(); i++) {
        tables.add(new Table(file, text, key + "#" + i, child.get(i)));
      }
      return tables;
    }

    Optional<String> string(String key) {
      var v = node.get(key);
      if (v == null) {
        return Optional.empty();
      }
      if (!v.isString()) {
        throw invalid(key, "must be a string in quotes");
      }
      return Optional.of(v.stringValue());
    }

    /** A path relative to {@code base}, the config's directory. */
    Optional<Path> path(String key, Path base) {
      return string(key)
          .map(
              text -> {
                try {
                  return base.resolve(text).normalize();
                } catch (InvalidPathException e) {
                  // Found by ConfigFuzzTest: a NUL in a path escaped as an InvalidPathException.
                  throw invalid(key, "is not a usable path (" + e.getReason() + ")");
                }
              });
    }

    InetSocketAddress tcpAddress(String key, String fallback) {
      var text = string(key).orElse(fallback);
      try {
        if (ListenAddress.parse(text, false) instanceof ListenAddress.Tcp tcp) {
          return tcp.address();
        }
      } catch (IllegalArgumentException e) {
        throw invalid(key, e.getMessage());
      }
      throw invalid(key, "must be a TCP address such as \"127.0.0.1:7070\"");
    }

    Optional<Boolean> bool(String key) {
      var v = node.get(key);
      if (v == null) {
        return Optional.empty();
      }
      if (!v.isBoolean()) {
        throw invalid(key, "must be true or false");
      }
      return Optional.of(v.booleanValue());
    }

    Optional<Integer> integer(String key) {
      var v = node.get(key);
      if (v == null) {
        return Optional.empty();
      }
      if (!v.isIntegralNumber()) {
        throw invalid(key, "must be a whole number");
      }
      if (!v.canConvertToInt()) {
        // Found by ConfigFuzzTest: intValue() threw for numbers past 32 bits.
        throw invalid(key, "is far too large a number (" + v + ")");
      }
      return Optional.of(v.intValue());
    }

    Optional<Duration> duration(String key) {
      var v = node.get(key);
      if (v == null) {
        return Optional.empty();
      }
      try {
        var d =
            v.isIntegralNumber()
                ? Duration.ofSeconds(v.longValue())
                : parseDuration(v.isString() ? v.stringValue() : v.toString());
        if (d.isZero() || d.isNegative()) {
          throw new IllegalArgumentException("must be longer than zero");
        }
        if (d.compareTo(LONGEST) > 0) {
          // A longer one parses but overflows toMillis() or toNanos() where a timer is set.
          throw new IllegalArgumentException("must be at most " + LONGEST.toDays() + "d");
        }
        return Optional.of(d);
      } catch (IllegalArgumentException e) {
        throw invalid(key, e.getMessage());
      }
    }

    Optional<Long> size(String key) {
      var v = node.get(key);
      if (v == null) {
        return Optional.empty();
      }
      try {
        long bytes =
            v.isIntegralNumber()
                ? v.longValue()
                : parseSize(v.isString() ? v.stringValue() : v.toString());
        if (bytes < 1024) {
          throw new IllegalArgumentException("must be at least 1KB");
        }
        return Optional.of(bytes);
      } catch (IllegalArgumentException e) {
        throw invalid(key, e.getMessage());
      }
    }

    List<String> strings(String key) {
      var v = node.get(key);
      if (v == null) {
        throw missing(key, key + " = [\"./server\", \"--flag\"]");
      }
      if (!v.isArray()) {
        throw invalid(
            key,
            "must be an array of strings (argv), e.g. [\"gunicorn\", \"app:app\"]; baton never runs a shell");
      }
      var list = new ArrayList<String>();
      for (var item : v.values()) {
        if (!item.isString()) {
          throw invalid(key, "must contain only strings");
        }
        list.add(item.stringValue());
      }
      return list;
    }

    Map<String, String> stringMap(String key) {
      var v = node.get(key);
      if (v == null) {
        return Map.of();
      }
      if (!v.isObject()) {
        throw invalid(key, "must be a table of strings, e.g. env = { KEY = \"value\" }");
      }
      var map = new LinkedHashMap<String, String>();
      for (var e : v.properties()) {
        if (!e.getValue().isString()) {
          throw invalid(key, "value of '" + e.getKey() + "' must be a string in quotes");
        }
        map.put(e.getKey(), e.getValue().stringValue());
      }
      return map;
    }

    ConfigException invalid(String key, String problem) {
      return new ConfigException(where(key) + ": " + describe() + " " + key + " " + problem);
    }

    ConfigException missing(String key, String example) {
      return new ConfigException(file + ": " + describe() + " needs " + key + ", e.g. " + example);
    }

    private String describe() {
      if (path.isEmpty()) {
        return "the top level";
      }
      int hash = path.indexOf('#');
      return hash < 0
          ? "[" + path + "]"
          : "[["
              + path.substring(0, hash)
              + "]] #"
              + (Integer.parseInt(path.substring(hash + 1)) + 1);
    }

    /** "file:line" for the key's line in this table, or just "file" when it cannot be found. */
    private String where(String key) {
      var lines = text.split("\n", -1);
      var wantTable = path.contains("#") ? path.substring(0, path.indexOf('#')) : path;
      int wantIndex =
          path.contains("#") ? Integer.parseInt(path.substring(path.indexOf('#') + 1)) : 0;
      var current = "";
      int index = -1;
      var keyPattern =
          java.util.regex.Pattern.compile(
              "\\s*\"?" + java.util.regex.Pattern.quote(key) + "\"?\\s*=.*");
      for (int i = 0; i < lines.length; i++) {
        var line = lines[i].strip();
        if (line.startsWith("[")) {
          var name = line.replaceAll("^\\[\\[?\\s*|\\s*\\]\\]?.*$", "");
          index = name.equals(current) && line.startsWith("[[") ? index + 1 : 0;
          current = name;
          if (current.equals(key) && wantTable.isEmpty()) {
            return file + ":" + (i + 1);
          }
          continue;
        }
        if (current.equals(wantTable)
            && index == wantIndex
            && keyPattern.matcher(lines[i]).matches()) {
          return file + ":" + (i + 1);
        }
      }
      return file.toString();
    }

    private static Optional<String> closest(String key, List<String> known) {
      String best = null;
      int bestDistance = 3;
      for (var k : known) {
        int d = distance(key, k);
        if (d < bestDistance) {
          best = k;
          bestDistance = d;
        }
      }
      return Optional.ofNullable(best);
    }

    private static int distance(String a, String b) {
      var prev = new int[b.length() + 1];
      var cur = new int[b.length() + 1];
      for (int j = 0; j <= b.length(); j++) {
        prev[j] = j;
      }
      for (int i = 1; i <= a.length(); i++) {
        cur[0] = i;
        for (int j = 1; j <= b.length(); j++) {
          int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
          cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
        }
        var t = prev;
        prev = cur;
        cur = t;
      }
      return prev[b.length()];
    }
  }
}
