package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.haproxy.Host;
import dev.baton.haproxy.RolloutPlan;
import dev.baton.protocol.Json;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code baton fleet}: the supervisors of a rollout file, seen together. */
@Command(
    name = "fleet",
    description = "Look at every supervisor a rollout file names.",
    subcommands = {FleetCommand.StatusOfAll.class})
final class FleetCommand {

  /** One host's row: unreachable, or what its supervisor says. */
  record Row(
      String name,
      String target,
      boolean reachable,
      String error,
      Optional<Integer> active,
      String state,
      List<String> command,
      String lastDeploy,
      Optional<Instant> lastAt) {}

  @Command(
      name = "status",
      description =
          "One row per server of a rollout file: reachable or not, its active generation and"
              + " command, its state, and how its last deploy went. Exits 1 when any is unreachable.")
  static final class StatusOfAll implements Callable<Integer> {
    @Option(
        names = {"-f", "--file"},
        required = true,
        paramLabel = "FILE",
        description = "the rollout file whose [[server]] tables name the supervisors")
    Path file;

    @Option(
        names = "--token-file",
        paramLabel = "FILE",
        description = "the bearer token for remote supervisors (default: the file's token_file)")
    @Nullable Path tokenFile;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        description = "how long each supervisor may take to answer (default 5s)")
    Duration timeout = Duration.ofSeconds(5);

    @Option(names = "--json", description = "print one JSON object per server, one per line")
    boolean json;

    @Override
    public Integer call() throws Exception {
      RolloutPlan.Builder plan;
      try {
        plan = RolloutPlan.read(file);
      } catch (ConfigException e) {
        System.err.println("baton: " + e.getMessage());
        return Main.USAGE;
      }
      var servers = plan.servers();
      if (servers.isEmpty()) {
        System.err.println(
            "baton: "
                + file
                + " names no [[server]]; add one per host, e.g. [[server]] name = \"s1\" target ="
                + " \"https://10.0.0.1:7070\"");
        return Main.USAGE;
      }
      var token = tokenFile != null ? tokenFile : plan.tokenFile().orElse(null);
      var rows = new ArrayList<Row>();
      // Every host at once: one that does not answer costs the timeout once, not once per host.
      try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
        var pending = new ArrayList<Future<Row>>();
        for (var server : servers) {
          pending.add(pool.submit(() -> row(server, token, timeout)));
        }
        for (var f : pending) {
          rows.add(f.get());
        }
      }
      if (json) {
        rows.forEach(r -> System.out.println(json(r)));
      } else {
        print(rows);
      }
      return rows.stream().allMatch(Row::reachable) ? 0 : Main.FAILED;
    }
  }

  static Row row(RolloutPlan.Server server, @Nullable Path token, Duration timeout) {
    Status status;
    try {
      status = Host.of(server.target(), token, timeout).status();
    } catch (RuntimeException e) {
      return new Row(
          server.name(),
          server.target(),
          false,
          String.valueOf(e.getMessage()),
          Optional.empty(),
          "unreachable",
          List.of(),
          "",
          Optional.empty());
    }
    var active =
        status.generations().stream()
            .filter(g -> status.activeGeneration().equals(Optional.of(g.number())))
            .findFirst();
    var state =
        status.crashLoop().isPresent()
            ? "crash-looping"
            : status.deploying() ? "deploying" : active.isPresent() ? "serving" : "no active";
    return new Row(
        server.name(),
        server.target(),
        true,
        "",
        status.activeGeneration(),
        state,
        active.map(Status.GenerationStatus::command).orElse(List.of()),
        lastDeploy(status),
        lastAt(status));
  }

  /**
   * How the newest deploy went, from the newest generation: failed when it never became active (its
   * reason), ok when it was promoted, in progress while it starts.
   */
  static String lastDeploy(Status status) {
    var newest =
        status.generations().stream().max((a, b) -> Integer.compare(a.number(), b.number()));
    if (newest.isEmpty()) {
      return "none";
    }
    var g = newest.get();
    if (g.state().equals("failed")) {
      var why = g.reason().isEmpty() ? g.exit().orElse("") : g.reason();
      return "failed: generation " + g.number() + (why.isEmpty() ? "" : " " + why);
    }
    if (g.state().equals("starting") || g.state().equals("ready")) {
      return "in progress: generation " + g.number();
    }
    return status.history().isEmpty()
        ? "ok"
        : "ok: " + status.history().getLast().kind().name().toLowerCase(Locale.ROOT);
  }

  private static Optional<Instant> lastAt(Status status) {
    return status.history().isEmpty()
        ? Optional.empty()
        : Optional.of(status.history().getLast().at());
  }

  static String json(Row r) {
    return Json.write(
        out -> {
          out.writeStartObject();
          out.writeStringProperty("name", r.name());
          out.writeStringProperty("target", r.target());
          out.writeBooleanProperty("reachable", r.reachable());
          if (r.active().isPresent()) {
            out.writeNumberProperty("active_generation", r.active().get());
          } else {
            out.writeNullProperty("active_generation");
          }
          out.writeStringProperty("state", r.state());
          Json.writeStrings(out, "command", r.command());
          out.writeStringProperty("last_deploy", r.lastDeploy());
          Json.writeOptional(out, "last_promotion_at", r.lastAt());
          out.writeStringProperty("error", r.error());
          out.writeEndObject();
        });
  }

  private static void print(List<Row> rows) {
    System.out.printf(
        "%-12s %-11s %-6s %-13s %-40s %s%n",
        "SERVER", "REACHABLE", "GEN", "STATE", "LAST DEPLOY", "COMMAND");
    for (var r : rows) {
      System.out.printf(
          "%-12s %-11s %-6s %-13s %-40s %s%n",
          r.name(),
          r.reachable() ? "yes" : "no",
          r.active().map(String::valueOf).orElse("-"),
          r.state(),
          r.reachable() ? r.lastDeploy() : "-",
          String.join(" ", r.command()));
      if (!r.reachable()) {
        System.out.println("             " + r.error());
      }
    }
  }
}
