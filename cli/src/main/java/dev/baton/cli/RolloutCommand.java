package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.haproxy.Rollout;
import dev.baton.haproxy.RolloutEvent;
import dev.baton.haproxy.RolloutException;
import dev.baton.haproxy.RolloutPlan;
import dev.baton.haproxy.RolloutReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.json.JsonMapper;

@Command(
    name = "rollout",
    sortOptions = false,
    description = {
      "Deploy a new version across the servers of an HAProxy backend, a batch at a time. For each"
          + " server: drain it in HAProxy, wait until it has no sessions or queue, deploy through its"
          + " supervisor, wait for HAProxy's own health check to pass, set it ready.",
      "On any failure the rollout stops, rolls the servers already done back, and leaves every server"
          + " ready. A TARGET is a supervisor's baton.toml or control socket on this host, or its remote"
          + " API URL (http(s)://host:port, with --token-file).",
      "Example: baton rollout --haproxy /run/haproxy/admin.sock --backend app --server s1=/srv/a/baton.toml"
          + " --server s2=https://10.0.0.2:7070 --token-file /etc/baton/token -- java -jar app-v2.jar"
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  every server runs the new version and is ready",
      "  1  the rollout did not start (nothing changed) or was aborted and rolled back; the reason is printed",
      "  2  bad usage, a bad rollout file or a bad config"
    })
final class RolloutCommand implements Callable<Integer> {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @Option(
      names = {"-f", "--rollout-file"},
      paramLabel = "FILE",
      description = "the plan in a TOML file (see the README); options below override it")
  @Nullable Path file;

  @Option(
      names = "--haproxy",
      paramLabel = "SOCKET|HOST:PORT",
      description = "HAProxy's Runtime API: its stats socket (level admin)")
  @Nullable String haproxy;

  @Option(names = "--backend", paramLabel = "NAME", description = "the backend in haproxy.cfg")
  @Nullable String backend;

  @Option(
      names = "--server",
      paramLabel = "NAME=TARGET",
      description = "a server of the backend and its supervisor; repeat for each")
  List<String> servers = new ArrayList<>();

  @Option(
      names = "--batch",
      paramLabel = "N",
      description = "servers drained and deployed at once (default 1)")
  @Nullable Integer batch;

  @Option(
      names = "--canary",
      paramLabel = "NAME",
      description = "deploy this server first, alone, at a reduced weight, and compare it")
  @Nullable String canary;

  @Option(
      names = "--canary-weight",
      paramLabel = "W",
      description = "the canary's weight during the bake (default 10, of 100)")
  @Nullable Integer canaryWeight;

  @Option(
      names = "--canary-bake",
      paramLabel = "DURATION",
      description = "how long the canary serves before the rest follow (default 30s)")
  Optional<Duration> canaryBake = Optional.empty();

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description = "the bearer token for remote supervisors")
  @Nullable Path tokenFile;

  @Option(
      names = "--insecure",
      description =
          "send the token over plain http:// to hosts off loopback (a trusted network only)")
  boolean insecure;

  @Option(
      names = "--env",
      paramLabel = "KEY=VALUE",
      description = "set an environment variable for the new version")
  Map<String, String> env = new LinkedHashMap<>();

  @Option(
      names = "--drain-timeout",
      paramLabel = "DURATION",
      description = "longest wait for a drained server's sessions (default 60s)")
  Optional<Duration> drainTimeout = Optional.empty();

  @Option(
      names = "--deploy-timeout",
      paramLabel = "DURATION",
      description = "longest deploy on one server (default 3m)")
  Optional<Duration> deployTimeout = Optional.empty();

  @Option(
      names = "--health-timeout",
      paramLabel = "DURATION",
      description = "longest wait for HAProxy's health check (default 60s)")
  Optional<Duration> healthTimeout = Optional.empty();

  @Option(
      names = "--haproxy-timeout",
      paramLabel = "DURATION",
      description = "longest Runtime API command (default 5s)")
  Optional<Duration> haproxyTimeout = Optional.empty();

  @Option(names = "--json", description = "print each step, and the result, as JSON lines")
  boolean json;

  @Parameters(
      paramLabel = "COMMAND",
      arity = "0..*",
      description = "the new version's argv (default: each supervisor's [app] command)")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() {
    Rollout rollout;
    try {
      rollout = Rollout.of(plan());
    } catch (IllegalArgumentException | ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.USAGE;
    }
    // Ctrl-C mid-rollout: leave every server ready rather than drained, and say what was left.
    var hook = Thread.ofPlatform().unstarted(rollout::abandon);
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      var report = rollout.run(this::print);
      finished(report);
      return 0;
    } catch (RolloutException e) {
      if (json) {
        var node = JSON.createObjectNode();
        node.put("ok", false);
        node.put("started", e.started());
        node.put("error", e.getMessage());
        System.out.println(node);
      }
      System.err.println("baton: " + e.getMessage());
      return Main.FAILED;
    } finally {
      Runtime.getRuntime().removeShutdownHook(hook);
    }
  }

  /** The rollout file, if any, with the options given over it; checked whole. */
  RolloutPlan plan() {
    var plan = file != null ? RolloutPlan.read(file) : RolloutPlan.builder();
    if (haproxy != null) {
      plan.haproxy(haproxy);
    }
    if (backend != null) {
      plan.backend(backend);
    }
    if (!servers.isEmpty()) {
      plan.servers(servers.stream().map(RolloutPlan.Server::parse).toList());
    }
    if (batch != null) {
      plan.batch(batch);
    }
    if (canary != null) {
      plan.canary(canary);
    }
    if (canaryWeight != null) {
      plan.canaryWeight(canaryWeight);
    }
    canaryBake.ifPresent(plan::canaryBake);
    if (tokenFile != null) {
      plan.tokenFile(tokenFile);
    }
    if (insecure) {
      plan.insecure(true);
    }
    drainTimeout.ifPresent(plan::drainTimeout);
    deployTimeout.ifPresent(plan::deployTimeout);
    healthTimeout.ifPresent(plan::healthTimeout);
    haproxyTimeout.ifPresent(plan::haproxyTimeout);
    if (!command.isEmpty()) {
      plan.command(command);
    }
    plan.env(env);
    return plan.build();
  }

  private void print(RolloutEvent event) {
    if (json) {
      var node = JSON.createObjectNode();
      node.put("elapsed_ms", event.elapsed().toMillis());
      if (!event.server().isEmpty()) {
        node.put("server", event.server());
      }
      node.put("step", event.step());
      node.put("detail", event.detail());
      System.out.println(node);
    } else {
      System.out.printf(
          Locale.ROOT,
          "%+9.3fs  %-10s %-11s %s%n",
          event.elapsed().toMillis() / 1000.0,
          event.server().isEmpty() ? "*" : event.server(),
          event.step(),
          event.detail());
    }
    System.out.flush();
  }

  private void finished(RolloutReport report) {
    if (json) {
      var node = JSON.createObjectNode();
      node.put("ok", true);
      node.put("backend", report.backend());
      node.put("elapsed_ms", report.elapsed().toMillis());
      var hosts = node.putArray("servers");
      for (var h : report.hosts()) {
        var host = hosts.addObject();
        host.put("server", h.server());
        host.put("generation", h.generation());
        host.put("drain_ms", h.drain().toMillis());
        host.put("deploy_ms", h.deploy().toMillis());
        host.put("check_ms", h.check().toMillis());
        host.put("total_ms", h.total().toMillis());
      }
      System.out.println(node);
      return;
    }
    System.out.printf(
        Locale.ROOT,
        "rollout of backend %s done in %.1f s:",
        report.backend(),
        report.elapsed().toMillis() / 1000.0);
    for (var h : report.hosts()) {
      System.out.printf(
          Locale.ROOT,
          "  %s %.1f s (drain %d ms, deploy %d ms, check %d ms)",
          h.server(),
          h.total().toMillis() / 1000.0,
          h.drain().toMillis(),
          h.deploy().toMillis(),
          h.check().toMillis());
    }
    System.out.println();
  }
}
