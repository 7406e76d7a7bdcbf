package dev.baton.haproxy;

import dev.baton.config.ConfigException;
import dev.baton.config.Durations;
import dev.baton.config.TomlTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a rollout does: which HAProxy, which backend, which servers and where their supervisors are,
 * in what batches, with what canary, to what command. Made from the command line, a rollout file,
 * or both (the command line wins), and checked whole before anything is touched.
 *
 * @param haproxy the Runtime API: a stats socket path or host:port
 * @param servers in rollout order; the canary, if any, goes first whatever its place here
 * @param batch how many servers are drained and deployed at once
 * @param command the new version's argv; empty for each supervisor's configured command
 * @param env added to the new version's environment
 * @param tokenFile the bearer token for remote supervisors
 * @param insecure whether the token may go over plain http:// to a host off loopback
 */
public record RolloutPlan(
    String haproxy,
    String backend,
    List<Server> servers,
    int batch,
    Optional<Canary> canary,
    Optional<List<String>> command,
    Map<String, String> env,
    Optional<Path> tokenFile,
    Timeouts timeouts,
    boolean insecure) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

  /** A server of the backend, by its name in HAProxy, and how to reach its supervisor. */
  public record Server(String name, String target) {
    /** "s1=/srv/app/baton.toml", as --server takes it. */
    public static Server parse(String text) {
      int eq = text.indexOf('=');
      if (eq <= 0 || eq == text.length() - 1) {
        throw new IllegalArgumentException(
            "--server '"
                + text
                + "' must be NAME=TARGET, e.g. s1=/srv/app/baton.toml,"
                + " s2=/srv/app/baton.sock or s3=https://10.0.0.3:7070");
      }
      return new Server(text.substring(0, eq), text.substring(eq + 1));
    }
  }

  /**
   * The first server gets the new version alone, at {@code weight}, for {@code bake}; its 5xx and
   * failed requests are compared with the other servers' before the rest follow.
   */
  public record Canary(String server, int weight, Duration bake) {}

  /**
   * @param haproxy one Runtime API command
   * @param drain a drained server's sessions and queue to empty
   * @param deploy one supervisor's deploy, the old generation's drain included
   * @param health HAProxy's health check to pass after a deploy
   */
  public record Timeouts(Duration haproxy, Duration drain, Duration deploy, Duration health) {
    public static final Timeouts DEFAULT =
        new Timeouts(
            Duration.ofSeconds(5),
            Duration.ofSeconds(60),
            Duration.ofMinutes(3),
            Duration.ofSeconds(60));

    /**
     * A zero timeout would fail every step at once, whether set on the command line or in a file.
     */
    public Timeouts {
      positive(haproxy, "--haproxy-timeout");
      positive(drain, "--drain-timeout");
      positive(deploy, "--deploy-timeout");
      positive(health, "--health-timeout");
    }

    private static void positive(Duration timeout, String option) {
      if (!timeout.isPositive()) {
        throw new IllegalArgumentException(option + " must be longer than zero");
      }
    }
  }

  public RolloutPlan {
    servers = List.copyOf(servers);
    command = command.map(List::copyOf);
    env = Map.copyOf(env);
    if (haproxy.isBlank()) {
      throw new IllegalArgumentException(
          "no HAProxy given: pass --haproxy with its stats socket (/run/haproxy/admin.sock)"
              + " or host:port, or set haproxy in the rollout file");
    }
    RuntimeApiAddress.parse(haproxy);
    if (!NAME.matcher(backend).matches()) {
      throw new IllegalArgumentException(
          backend.isEmpty()
              ? "no backend given: pass --backend NAME (the backend's name in haproxy.cfg)"
              : "backend '" + backend + "' is not a valid HAProxy name");
    }
    if (servers.isEmpty()) {
      throw new IllegalArgumentException(
          "no servers given: pass --server NAME=TARGET for each server of backend '"
              + backend
              + "' to roll out to");
    }
    var names = new HashSet<String>();
    for (var s : servers) {
      if (!NAME.matcher(s.name()).matches()) {
        throw new IllegalArgumentException(
            "server name '"
                + s.name()
                + "' is not a valid HAProxy name (letters, digits, _ . : -)");
      }
      if (!names.add(s.name())) {
        throw new IllegalArgumentException("server '" + s.name() + "' is given twice");
      }
      if (s.target().isBlank()) {
        throw new IllegalArgumentException("server '" + s.name() + "' has no target");
      }
    }
    if (batch < 1) {
      throw new IllegalArgumentException("--batch must be at least 1, was " + batch);
    }
    if (canary.isPresent()) {
      var c = canary.get();
      if (!names.contains(c.server())) {
        throw new IllegalArgumentException(
            "--canary "
                + c.server()
                + " is not one of the servers given ("
                + String.join(", ", names)
                + ")");
      }
      if (c.weight() < 1 || c.weight() > 256) {
        throw new IllegalArgumentException(
            "--canary-weight must be from 1 to 256 (HAProxy's weights), was " + c.weight());
      }
      if (!c.bake().isPositive()) {
        throw new IllegalArgumentException("--canary-bake must be longer than zero");
      }
    }
    if (command.isPresent() && command.get().isEmpty()) {
      throw new IllegalArgumentException("the command after -- must name a program");
    }
    if (!insecure) {
      for (var s : servers) {
        if (s.target().startsWith("http://") && !loopback(s.target())) {
          throw new IllegalArgumentException(
              "server '"
                  + s.name()
                  + "' is "
                  + s.target()
                  + ": plain http:// to another"
                  + " host would send the bearer token in clear; use https:// (set [remote] tls_keystore on that host), or"
                  + " pass --insecure (insecure = true in the rollout file) if the network is trusted");
        }
      }
    }
  }

  /**
   * Whether an http:// URL names this host by a loopback address or "localhost". Names are not
   * looked up: one that resolves to loopback today may not tomorrow, so it counts as remote.
   */
  static boolean loopback(String url) {
    String host;
    try {
      host = java.net.URI.create(url).getHost();
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (host == null) {
      return false;
    }
    host = host.replaceAll("^\\[|\\]$", "");
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!host.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
      return false;
    }
    try {
      // A literal address: parsed, never resolved.
      return java.net.InetAddress.ofLiteral(host).isLoopbackAddress();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The servers in the order they are rolled out: the canary first. */
  List<List<String>> batches() {
    var order = new ArrayList<String>();
    canary.ifPresent(c -> order.add(c.server()));
    servers.stream().map(Server::name).filter(n -> !order.contains(n)).forEach(order::add);
    var batches = new ArrayList<List<String>>();
    int from = 0;
    if (canary.isPresent()) {
      batches.add(List.of(order.getFirst()));
      from = 1;
    }
    for (int i = from; i < order.size(); i += batch) {
      batches.add(List.copyOf(order.subList(i, Math.min(order.size(), i + batch))));
    }
    return batches;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder from a rollout file (TOML; see the README), to be completed or overridden by the
   * command line. Relative paths in it are relative to the file; durations are written as in
   * baton.toml ({@link Durations}).
   *
   * @throws ConfigException naming the file, and the line and key, that is wrong
   */
  public static Builder read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": no such rollout file");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
    }
    var base =
        Objects.requireNonNull(file.toAbsolutePath().getParent(), "an absolute file has a parent");
    var top = TomlTable.parse(file, text);
    top.allow(
        "haproxy",
        "backend",
        "batch",
        "token_file",
        "insecure",
        "command",
        "env",
        "server",
        "canary",
        "timeouts");
    var b = new Builder();
    top.string("haproxy").ifPresent(b::haproxy);
    top.string("backend").ifPresent(b::backend);
    top.integer("batch").ifPresent(b::batch);
    top.path("token_file", base).ifPresent(b::tokenFile);
    top.bool("insecure").ifPresent(b::insecure);
    top.argv("command").ifPresent(b::command);
    b.env(top.stringMap("env"));
    for (var server : top.tables("server")) {
      server.allow("name", "target");
      var name = server.string("name").orElseThrow(() -> server.missing("name", "name = \"s1\""));
      var target =
          server
              .string("target")
              .orElseThrow(() -> server.missing("target", "target = \"/srv/app/baton.toml\""));
      b.servers.add(
          new Server(
              name,
              target.matches("https?://.*")
                  ? target
                  : server.path("target", base).orElseThrow().toString()));
    }
    top.table("canary")
        .ifPresent(
            canary -> {
              canary.allow("server", "weight", "bake");
              b.canary(
                  canary
                      .string("server")
                      .orElseThrow(() -> canary.missing("server", "server = \"s1\"")));
              canary.integer("weight").ifPresent(b::canaryWeight);
              canary.duration("bake").ifPresent(b::canaryBake);
            });
    top.table("timeouts")
        .ifPresent(
            t -> {
              t.allow("haproxy", "drain", "deploy", "health");
              t.duration("haproxy").ifPresent(b::haproxyTimeout);
              t.duration("drain").ifPresent(b::drainTimeout);
              t.duration("deploy").ifPresent(b::deployTimeout);
              t.duration("health").ifPresent(b::healthTimeout);
            });
    return b;
  }

  /** Collects a plan; every setter replaces what a rollout file said. */
  public static final class Builder {
    private String haproxy = "";
    private String backend = "";
    private final List<Server> servers = new ArrayList<>();
    private int batch = 1;
    private Optional<String> canary = Optional.empty();
    private int canaryWeight = 10;
    private Duration canaryBake = Duration.ofSeconds(30);
    private Optional<List<String>> command = Optional.empty();
    private final Map<String, String> env = new LinkedHashMap<>();
    private Optional<Path> tokenFile = Optional.empty();
    private boolean insecure;
    private Duration haproxyTimeout = Timeouts.DEFAULT.haproxy();
    private Duration drainTimeout = Timeouts.DEFAULT.drain();
    private Duration deployTimeout = Timeouts.DEFAULT.deploy();
    private Duration healthTimeout = Timeouts.DEFAULT.health();

    private Builder() {}

    /** The servers so far, in order: what {@code baton fleet status} looks at. */
    public List<Server> servers() {
      return List.copyOf(servers);
    }

    public Optional<Path> tokenFile() {
      return tokenFile;
    }

    public Builder haproxy(String address) {
      this.haproxy = address;
      return this;
    }

    public Builder backend(String backend) {
      this.backend = backend;
      return this;
    }

    /** Replaces the servers of a rollout file, if any. */
    public Builder servers(List<Server> servers) {
      this.servers.clear();
      this.servers.addAll(servers);
      return this;
    }

    public Builder batch(int batch) {
      this.batch = batch;
      return this;
    }

    public Builder canary(String server) {
      this.canary = Optional.of(server);
      return this;
    }

    public Builder canaryWeight(int weight) {
      this.canaryWeight = weight;
      return this;
    }

    public Builder canaryBake(Duration bake) {
      this.canaryBake = bake;
      return this;
    }

    public Builder command(List<String> argv) {
      this.command = Optional.of(List.copyOf(argv));
      return this;
    }

    public Builder env(Map<String, String> env) {
      this.env.putAll(env);
      return this;
    }

    public Builder tokenFile(Path file) {
      this.tokenFile = Optional.of(file);
      return this;
    }

    /** Lets the token go over plain http:// to hosts off loopback. */
    public Builder insecure(boolean insecure) {
      this.insecure = insecure;
      return this;
    }

    public Builder haproxyTimeout(Duration timeout) {
      this.haproxyTimeout = timeout;
      return this;
    }

    public Builder drainTimeout(Duration timeout) {
      this.drainTimeout = timeout;
      return this;
    }

    public Builder deployTimeout(Duration timeout) {
      this.deployTimeout = timeout;
      return this;
    }

    public Builder healthTimeout(Duration timeout) {
      this.healthTimeout = timeout;
      return this;
    }

    /**
     * @throws IllegalArgumentException saying what is missing or wrong
     */
    public RolloutPlan build() {
      return new RolloutPlan(
          haproxy,
          backend,
          servers,
          batch,
          canary.map(s -> new Canary(s, canaryWeight, canaryBake)),
          command,
          env,
          tokenFile,
          new Timeouts(haproxyTimeout, drainTimeout, deployTimeout, healthTimeout),
          insecure);
    }
  }
}
