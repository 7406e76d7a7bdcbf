package dev.baton.bench;

import dev.baton.bench.SteadyServer.Role;
import dev.baton.os.Os;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Throughput without deploys, like with like: the sample bare twice (A and A', the A/A control),
 * under a plain fork/exec parent (its child in bench's session, and in a session of its own), and
 * under baton run, all started at once and alike, idle unless loaded. Each load then goes to one
 * server at a time, in short slices, round after round, the order rotated and flipped every round
 * so that the host's drift falls on all alike; ratios are taken within a round.
 *
 * <pre>{@code
 * try (var run = SteadyRun.prepare(plan, System.err::println)) {
 *   SteadyReport report = run.run();
 * }
 * }</pre>
 */
public final class SteadyRun implements AutoCloseable {
  /** Five servers start at once; with the JVM sample that is six JVMs on what may be two cores. */
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  /** Between slices, for the last slice's closed connections to be gone from both sides. */
  private static final Duration GAP = Duration.ofMillis(50);

  static final String SCRIPTS = "bench/src/main/python";

  private final SteadyPlan plan;
  private final Consumer<String> progress;
  private final Sample sample;
  private final Path python;
  private final Path scripts;
  private final Os os = Os.linux();
  private final List<SteadyServer> servers = new CopyOnWriteArrayList<>();
  private final AtomicReference<LoadGenerator> currentLoad = new AtomicReference<>();
  private volatile boolean stopped;

  private SteadyRun(
      SteadyPlan plan, Consumer<String> progress, Sample sample, Path python, Path scripts) {
    this.plan = plan;
    this.progress = progress;
    this.sample = sample;
    this.python = python;
    this.scripts = scripts;
  }

  /**
   * Checks what can be checked before anything starts: the sample is built, python3 and the helper
   * scripts are there, the descriptor limit covers the load, the output directory can be made.
   *
   * @throws IllegalArgumentException with what is wrong and what to do
   */
  public static SteadyRun prepare(SteadyPlan plan, Consumer<String> progress) {
    int connections = plan.modes().stream().mapToInt(LoadMode::connections).max().orElse(1);
    long limit = Bench.openFileLimit();
    if (connections + 64 > limit) {
      throw new IllegalArgumentException(
          "concurrency "
              + connections
              + " needs more file descriptors than the limit of "
              + limit
              + " (ulimit -n) allows; raise it (ulimit -n "
              + (connections + 1024)
              + ") or lower --concurrency");
    }
    var sample = Sample.locate(plan.sample());
    var python =
        Sample.python3()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "the steady mode starts its servers through python3 (place.py), and none is on PATH or in /usr/bin;"
                            + " install it (apt-get install python3)"));
    var scripts = Sample.home().orElseThrow().resolve(SCRIPTS);
    for (var script : List.of("place.py", "forkexec_parent.py")) {
      if (!Files.isRegularFile(scripts.resolve(script))) {
        throw new IllegalArgumentException(
            scripts.resolve(script)
                + " is missing; the steady mode needs the baton"
                + " tree's "
                + SCRIPTS
                + " (run bench through bin/baton)");
      }
    }
    try {
      Files.createDirectories(plan.out());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot create the output directory " + plan.out() + ": " + e.getMessage());
    }
    return new SteadyRun(plan, progress, sample, python, scripts);
  }

  /**
   * Starts the servers, measures every round, ends every server; returns the report, partial when
   * stopped.
   */
  public SteadyReport run() {
    var started = Instant.now();
    var host = SteadyReport.Host.now();
    var bench = Placement.Where.self();
    var results = new SteadyResults(plan.modes());
    var apps = new EnumMap<Role, Placement.Where>(Role.class);
    var starters = new EnumMap<Role, Placement.Where>(Role.class);
    String error = null;
    Path dir = null;
    try {
      dir = Files.createTempDirectory("baton-steady-");
      startAll(dir);
      for (var server : servers) {
        server.where().ifPresent(w -> apps.put(server.role(), w));
        server.starterWhere().ifPresent(w -> starters.put(server.role(), w));
      }
      progress.accept("placed: " + SteadyReport.placementLine(bench, apps));
      measure(results);
    } catch (Children.Stopped e) {
      error = "stopped";
    } catch (IOException | RuntimeException e) {
      error = String.valueOf(e.getMessage());
      progress.accept("could not run to its end: " + e.getMessage());
    } finally {
      endAll();
      if (dir != null) {
        Children.deleteQuietly(dir);
      }
    }
    var report =
        new SteadyReport(
            plan,
            started,
            Instant.now(),
            stopped,
            error,
            host,
            SteadyReport.Host.now(),
            bench,
            apps,
            starters,
            logs(),
            results);
    try {
      report.write();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report into " + plan.out(), e);
    }
    return report;
  }

  /**
   * Ctrl-C: ends the slice under way; run() then ends every server and returns the partial report.
   */
  public void stop() {
    stopped = true;
    var load = currentLoad.get();
    if (load != null) {
      load.stop();
    }
  }

  /** Ends every server still running; safe from a shutdown hook, and more than once. */
  @Override
  public void close() {
    stopped = true;
    endAll();
  }

  private void startAll(Path dir) throws IOException {
    for (var role : Role.values()) {
      var work = Files.createDirectories(dir.resolve(role.key));
      var log = plan.out().resolve("steady-" + role.key + ".log");
      Files.writeString(log, "");
      int port = Children.freePort();
      var argv =
          new ArrayList<>(
              List.of(
                  python.toString(),
                  scripts.resolve("place.py").toString(),
                  plan.placement().label()));
      argv.addAll(
          switch (role) {
            case BARE_A, BARE_A2 -> sample.argv(withPort(port));
            case PARENT, PARENT_SETSID -> parent(role == Role.PARENT_SETSID, port);
            case BATON -> baton(work, port);
          });
      if (stopped) {
        throw new Children.Stopped();
      }
      var server = SteadyServer.start(role, argv, environment(), work, log, port, appMarker(), os);
      servers.add(server);
      progress.accept("started " + server + ": " + String.join(" ", argv));
    }
    for (var server : servers) {
      server.awaitReady(READY_TIMEOUT, () -> stopped);
    }
  }

  /**
   * The JVM sample adopts LISTEN_FDS through the JDK's inherited-channel code, which needs
   * sun.nio.ch opened; baton run opens it for a java generation through JDK_JAVA_OPTIONS. Every
   * server gets the same, so that the JVMs compared run with the same flags.
   */
  private Map<String, String> environment() {
    if (plan.sample() != SampleKind.JVM) {
      return Map.of();
    }
    var opens = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";
    var inherited = System.getenv().getOrDefault("JDK_JAVA_OPTIONS", "");
    return Map.of(
        "JDK_JAVA_OPTIONS",
        inherited.contains(opens) ? inherited : (inherited + " " + opens).trim());
  }

  private List<String> withPort(int port) {
    var options = new ArrayList<>(plan.appOptions());
    options.add("--port=" + port);
    return options;
  }

  private List<String> parent(boolean setsid, int port) {
    var argv =
        new ArrayList<>(
            List.of(python.toString(), "-S", scripts.resolve("forkexec_parent.py").toString()));
    if (setsid) {
      argv.add("--setsid");
    }
    argv.add("--port=" + port);
    argv.addAll(sample.argv(plan.appOptions()));
    return argv;
  }

  /** baton run with bin/baton's JVM flags, as BatonService starts it, and the sample's config. */
  private List<String> baton(Path work, int port) throws IOException {
    var config = work.resolve("baton.toml");
    Files.writeString(config, BatonService.sampleConfig(sample, port, plan.appOptions()));
    return BatonService.supervisorCommand(
        BatonService.java().toString(), "dev.baton.cli.Main", "run", "-c", config.toString());
  }

  /**
   * The sample's script or jar: the word of its command line that tells the app from a parent's
   * other children.
   */
  private String appMarker() {
    return sample.command().getLast();
  }

  private void measure(SteadyResults results) {
    progress.accept(
        String.format(
            Locale.ROOT,
            "%d rounds of %s slices: %s, about %d s",
            plan.rounds(),
            SteadyReport.seconds(plan.slice()),
            String.join(", ", plan.modes().stream().map(LoadMode::name).toList()),
            plan.estimate().toSeconds()));
    // One round unrecorded: the JVM's compiler, the sockets' first use, the caches.
    for (var mode : plan.modes()) {
      for (var server : servers) {
        slice(mode, server);
      }
    }
    for (int round = 0; round < plan.rounds(); round++) {
      for (var mode : plan.modes()) {
        for (var role : order(round)) {
          results.add(mode, role, slice(mode, server(role)));
        }
      }
      progress.accept(roundLine(round, results));
    }
  }

  /**
   * The roles in the order of {@code round}: rotated by one every round, and reversed every other
   * one.
   */
  static List<Role> order(int round) {
    var roles = List.of(Role.values());
    var rotated = new ArrayList<Role>();
    for (int i = 0; i < roles.size(); i++) {
      rotated.add(roles.get((i + round) % roles.size()));
    }
    return round % 2 == 0 ? rotated : rotated.reversed();
  }

  private LoadReport slice(LoadMode mode, SteadyServer server) {
    if (stopped) {
      throw new Children.Stopped();
    }
    var builder =
        Load.to(server.address())
            .connections(mode.connections())
            .duration(plan.slice())
            // Bounded in count as well as time: far more than any loopback server answers in a
            // slice.
            .requests(Math.max(10_000, plan.slice().toMillis() * 2_000))
            .timeout(REQUEST_TIMEOUT)
            .timelineLimit(0);
    if (plan.loadThreads() > 0) {
      builder.threads(plan.loadThreads());
    }
    if (mode.keepAlive()) {
      builder.keepAlive();
    } else {
      builder.connectionPerRequest();
    }
    if (plan.post()) {
      builder.post("/", Bench.POST_BODY);
    } else {
      builder.get("/");
    }
    var generator = LoadGenerator.start(builder.build());
    currentLoad.set(generator);
    var report = generator.report().join();
    currentLoad.set(null);
    if (stopped) {
      // A slice cut short is not a slice: it must not stand in a round's ratios.
      throw new Children.Stopped();
    }
    if (report.failed() > 0) {
      progress.accept(
          server.role().title
              + ", "
              + mode.name()
              + ": "
              + report.failed()
              + " failed in a slice: "
              + report.failureMessages().stream().findFirst().orElse(report.failures().toString()));
    }
    Children.sleep(GAP);
    return report;
  }

  private String roundLine(int round, SteadyResults results) {
    var line =
        new StringBuilder(String.format(Locale.ROOT, "round %d/%d:", round + 1, plan.rounds()));
    for (var mode : plan.modes()) {
      var control = results.perRound(mode, SteadyResults.CONTROL);
      var target = results.perRound(mode, SteadyResults.TARGET);
      line.append(
          String.format(
              Locale.ROOT,
              " %s A'/A %.3f baton/parent %.3f;",
              mode.name(),
              control.getLast(),
              target.getLast()));
    }
    return line.substring(0, line.length() - 1);
  }

  private SteadyServer server(Role role) {
    return servers.stream().filter(s -> s.role() == role).findFirst().orElseThrow();
  }

  private Map<Role, Path> logs() {
    var logs = new EnumMap<Role, Path>(Role.class);
    for (var role : Role.values()) {
      logs.put(role, plan.out().resolve("steady-" + role.key + ".log"));
    }
    return logs;
  }

  private void endAll() {
    // All at once: a drain takes as long as its slowest connection, and five in turn add up.
    var ending = servers.stream().map(s -> Thread.ofVirtual().start(s::close)).toList();
    for (var thread : ending) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    servers.clear();
  }
}
