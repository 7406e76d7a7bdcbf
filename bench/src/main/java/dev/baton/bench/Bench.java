package dev.baton.bench;

import dev.baton.os.Os;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A bench run: each scenario in turn, in its own directory and on its own port, under each load
 * mode, with the app replaced at the rhythm; then the report.
 *
 * <pre>{@code
 * try (var bench = Bench.prepare(plan, System.err::println)) {
 *   BenchReport report = bench.run();
 * }
 * }</pre>
 *
 * <p>{@link #stop()} (Ctrl-C) ends the load under way, skips what is left, and {@link #run()} then
 * returns the partial report. Every process the run started is ended by the time run() returns.
 */
public final class Bench implements AutoCloseable {
  /** The POST body: small, so that the request stays one packet and GET and POST compare. */
  static final byte[] POST_BODY = "x".repeat(512).getBytes(StandardCharsets.US_ASCII);

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration IDLE_WINDOW = Duration.ofSeconds(3);
  private static final Duration CROSS_CHECK_LONGEST = Duration.ofSeconds(10);

  private final BenchPlan plan;
  private final Consumer<String> progress;
  private final Optional<Sample> sample;
  private final Children children;
  private final Optional<NetworkNamespace> namespace;
  private final AtomicReference<LoadGenerator> currentLoad = new AtomicReference<>();
  private final AtomicReference<Rhythm> currentRhythm = new AtomicReference<>();
  private final Instant started = Instant.now();
  private volatile boolean stopped;

  /** {@code sample} is null when the plan benches a running service ({@code -c}). */
  private Bench(BenchPlan plan, Consumer<String> progress, @Nullable Sample sample) {
    this.plan = plan;
    this.progress = progress;
    this.sample = Optional.ofNullable(sample);
    this.namespace = NetworkNamespace.current();
    this.children = new Children(Os.linux());
  }

  /**
   * Checks everything that can be checked before any load starts: the sample is built, the file
   * descriptor limit covers the concurrency, a service given by -c is running and listening.
   *
   * @throws IllegalArgumentException with what is wrong and what to do
   */
  public static Bench prepare(BenchPlan plan, Consumer<String> progress) {
    int connections = plan.modes().stream().mapToInt(LoadMode::connections).max().orElse(1);
    long limit = openFileLimit();
    // Each connection is one fd, in bench; the selectors, the JVM and the children's pipes need
    // some more.
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
    Sample sample = plan.config().isPresent() ? null : Sample.locate(plan.sample());
    if (plan.config().isPresent()) {
      try (var service = BatonService.attach(plan.config().get(), e -> {})) {
        requireListening(service.address(), plan.config().get().toString());
      }
    }
    try {
      Files.createDirectories(plan.out());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot create the output directory " + plan.out() + ": " + e.getMessage());
    }
    Plot.warmUp();
    return new Bench(plan, progress, sample);
  }

  /** The soft RLIMIT_NOFILE of this process, from /proc/self/limits. */
  static long openFileLimit() {
    try {
      for (var line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          var soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
          return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux, or an odd /proc: the load generator still says so if it runs out.
    }
    return Long.MAX_VALUE;
  }

  static void requireListening(InetSocketAddress address, String what) {
    try (var channel = SocketChannel.open()) {
      channel.socket().connect(address, 2000);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "nothing is listening on "
              + address
              + " ("
              + what
              + "): "
              + e.getMessage()
              + "; start the service first ('baton run -c ...')");
    }
  }

  /** Runs every scenario; returns the report, partial when stopped. */
  public BenchReport run() {
    var results = new ArrayList<ScenarioResult>();
    try {
      for (var scenario : plan.scenarios()) {
        if (stopped) {
          break;
        }
        results.add(runScenario(scenario));
      }
    } finally {
      children.endAll(Duration.ofSeconds(10));
    }
    var report =
        new BenchReport(
            plan,
            started,
            Instant.now(),
            stopped,
            namespace.map(NetworkNamespace::name).orElse(null),
            results);
    try {
      report.write(plan.out());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report into " + plan.out(), e);
    }
    return report;
  }

  /** Ctrl-C: ends the load under way and everything started; run() returns the partial report. */
  public void stop() {
    stopped = true;
    var rhythm = currentRhythm.get();
    if (rhythm != null) {
      rhythm.stop(Duration.ZERO);
    }
    var load = currentLoad.get();
    if (load != null) {
      load.stop();
    }
  }

  private ScenarioResult runScenario(Scenario scenario) {
    Path dir;
    try {
      dir = Files.createTempDirectory("baton-bench-" + scenario.label() + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a directory for " + scenario, e);
    }
    var logFile = plan.out().resolve(scenario.label() + ".log");
    var measurements = new ArrayList<Measurement>();
    var crossChecks = new ArrayList<ScenarioResult.CrossCheckRun>();
    Optional<ScenarioResult.SupervisorCost> cost = Optional.empty();
    Optional<String> error = Optional.empty();
    try (Writer log = Files.newBufferedWriter(logFile)) {
      try {
        namespace.ifPresent(ns -> ns.setMigrateReq(scenario == Scenario.REUSEPORT_MIGRATE));
        progress.accept(scenario + ": starting" + describe(scenario) + " in " + dir);
        try (var service = startService(scenario, dir, log)) {
          var idle = idleCost(service);
          var before = service.supervisorPid().flatMap(ProcessUsage::of);
          for (var mode : plan.modes()) {
            if (stopped) {
              break;
            }
            measurements.add(measure(scenario, mode, service));
          }
          if (plan.crossCheck() && !stopped) {
            crossChecks.addAll(crossCheck(scenario, service, dir));
          }
          var after = service.supervisorPid().flatMap(ProcessUsage::of);
          if (before.isPresent() && after.isPresent()) {
            double cpu = after.get().cpuSeconds() - before.get().cpuSeconds();
            long deploys =
                measurements.stream().mapToLong(m -> m.reloads().size()).sum()
                    + crossChecks.stream().mapToLong(ScenarioResult.CrossCheckRun::reloads).sum();
            cost =
                Optional.of(
                    new ScenarioResult.SupervisorCost(
                        idle.orElse(Double.NaN),
                        cpu,
                        deploys == 0 ? 0 : cpu * 1000 / deploys,
                        after.get().peakRssBytes()));
          }
        }
      } finally {
        // Before the log closes: what the processes print while they end belongs in it.
        children.endAll(Duration.ofSeconds(10));
      }
    } catch (Children.Stopped e) {
      error = Optional.of("stopped");
    } catch (IOException | RuntimeException e) {
      error = Optional.of(String.valueOf(e.getMessage()));
      progress.accept(
          scenario + ": could not run to its end: " + e.getMessage() + " (log: " + logFile + ")");
    } finally {
      children.endAll(Duration.ofSeconds(10));
      Children.deleteQuietly(dir);
    }
    return new ScenarioResult(scenario, measurements, crossChecks, cost, error, logFile.toString());
  }

  private String describe(Scenario scenario) {
    return switch (scenario) {
      case NONE -> " (the " + plan.sample() + " sample, started once: the baseline)";
      case STOP_START -> " (SIGTERM, wait, start: the sample binds its own port)";
      case REUSEPORT ->
          " (each generation binds its own SO_REUSEPORT socket, tcp_migrate_req="
              + namespace.map(ns -> "0").orElse(NetworkNamespace.migrateReq() + ", this host's")
              + ")";
      case REUSEPORT_MIGRATE ->
          " (each generation binds its own SO_REUSEPORT socket, tcp_migrate_req=1 in netns "
              + namespace.map(NetworkNamespace::name).orElse("?")
              + ")";
      case BATON_STEADY -> " (baton run, no deploys)";
      case BATON_BPF -> " (baton run with the " + plan.sample() + " sample, steer = \"bpf\")";
      case BATON ->
          plan.config()
              .map(c -> " (your service of " + c + ")")
              .orElse(" (baton run with the " + plan.sample() + " sample)");
    };
  }

  private ServiceUnderTest startService(Scenario scenario, Path dir, Writer log) {
    Consumer<dev.baton.protocol.DeployEvent> events = e -> {};
    if (plan.config().isPresent()) {
      return BatonService.attach(plan.config().get(), events);
    }
    var app = sample.orElseThrow();
    return switch (scenario) {
      case NONE, STOP_START ->
          StopStartService.start(children, app, dir, log, Children.freePort(), plan.appOptions());
      case REUSEPORT, REUSEPORT_MIGRATE ->
          ReusePortService.start(children, app, dir, log, Children.freePort(), plan.appOptions());
      case BATON, BATON_STEADY, BATON_BPF ->
          BatonService.start(
              children, app, dir, log, 0, plan.appOptions(), scenario.steer(), events);
    };
  }

  /** The supervisor's CPU over a few quiet seconds, in percent of one core. */
  private Optional<Double> idleCost(ServiceUnderTest service) {
    var pid = service.supervisorPid();
    if (pid.isEmpty() || plan.config().isPresent()) {
      return Optional.empty();
    }
    // The supervisor has just started a JVM generation; let that settle before measuring quiet.
    Children.sleep(Duration.ofSeconds(1));
    var a = ProcessUsage.of(pid.get());
    Children.sleep(IDLE_WINDOW);
    var b = ProcessUsage.of(pid.get());
    if (a.isEmpty() || b.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        (b.get().cpuSeconds() - a.get().cpuSeconds()) * 100 / (IDLE_WINDOW.toMillis() / 1000.0));
  }

  private Measurement measure(Scenario scenario, LoadMode mode, ServiceUnderTest service)
      throws IOException {
    var builder =
        Load.to(service.address())
            .connections(mode.connections())
            .duration(plan.duration())
            .timeout(REQUEST_TIMEOUT);
    if (plan.requests() != Long.MAX_VALUE) {
      builder.requests(plan.requests());
    }
    if (mode.keepAlive()) {
      builder.keepAlive();
    } else {
      builder.connectionPerRequest();
    }
    if (plan.post()) {
      builder.post("/", POST_BODY);
    } else {
      builder.get("/");
    }
    var load = builder.build();
    progress.accept(scenario + ": " + mode.name() + ", " + load);
    var generator = LoadGenerator.start(load);
    currentLoad.set(generator);
    Rhythm rhythm = null;
    if (scenario.reloads() && !stopped) {
      rhythm = Rhythm.start(service, plan.rhythm(), Integer.MAX_VALUE, r -> {});
      currentRhythm.set(rhythm);
    }
    var report = generator.report().join();
    var reloads = rhythm == null ? List.<Reload>of() : rhythm.stop(Duration.ofSeconds(20));
    currentRhythm.set(null);
    currentLoad.set(null);
    var name = scenario.label() + "-" + mode.name().replace("=", "").replace(' ', '-') + ".png";
    var title =
        scenario
            + ", "
            + mode.name()
            + (plan.post() ? " POST" : " GET")
            + ": "
            + String.format(
                "%,d requests, %,d failed, %d reloads",
                report.requests(), report.failed(), reloads.size());
    String plot = null;
    try {
      Plot.write(
          report,
          reloads.stream()
              .filter(Reload::ok)
              .map(r -> (r.switchNanos() - generator.startNanos()) / 1e9)
              .toList(),
          title,
          plan.out().resolve(name));
      plot = name;
    } catch (IOException | RuntimeException e) {
      progress.accept(
          scenario
              + ": no plot: "
              + e
              + (e.getStackTrace().length > 0 ? " at " + e.getStackTrace()[0] : ""));
    }
    var measurement = Measurement.of(scenario, mode, report, reloads, generator.startNanos(), plot);
    progress.accept(
        scenario
            + ": "
            + mode.name()
            + ": "
            + report.summary()
            + (scenario.reloads() ? " " + reloads.size() + " reloads." : ""));
    return measurement;
  }

  private List<ScenarioResult.CrossCheckRun> crossCheck(
      Scenario scenario, ServiceUnderTest service, Path dir) {
    var runs = new ArrayList<ScenarioResult.CrossCheckRun>();
    var duration =
        plan.duration().compareTo(CROSS_CHECK_LONGEST) > 0 ? CROSS_CHECK_LONGEST : plan.duration();
    int connections = plan.modes().stream().mapToInt(LoadMode::connections).max().orElse(50);
    Path script = null;
    Path body = null;
    try {
      if (plan.post()) {
        body = Files.write(dir.resolve("post.body"), POST_BODY);
        script =
            Files.writeString(
                dir.resolve("post.lua"),
                "wrk.method = \"POST\"\nwrk.body = string.rep(\"x\", "
                    + POST_BODY.length
                    + ")\n"
                    + "wrk.headers[\"Content-Type\"] = \"application/octet-stream\"\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    var commands = new ArrayList<List<String>>();
    if (CrossCheck.installed("wrk")) {
      commands.add(
          CrossCheck.wrkCommand(service.address(), Math.max(connections, 2), duration, script));
    }
    if (CrossCheck.installed("ab")) {
      commands.add(CrossCheck.abCommand(service.address(), duration, body));
    }
    for (var argv : commands) {
      if (stopped) {
        break;
      }
      progress.accept(scenario + ": cross-check: " + String.join(" ", argv));
      Rhythm rhythm =
          scenario.reloads()
              ? Rhythm.start(service, plan.rhythm(), Integer.MAX_VALUE, r -> {})
              : null;
      currentRhythm.set(rhythm);
      var check = CrossCheck.run(children, argv, dir, duration);
      int reloads = rhythm == null ? 0 : rhythm.stop(Duration.ofSeconds(20)).size();
      currentRhythm.set(null);
      progress.accept(
          scenario
              + ": "
              + check.tool()
              + ": "
              + String.format(
                  "%,d requests, %,d failed (%s), %d reloads",
                  check.requests(), check.failed(), check.failures(), reloads)
              + check.gaveUp().map(g -> "; gave up: " + g).orElse(""));
      runs.add(new ScenarioResult.CrossCheckRun(check, reloads));
    }
    return runs;
  }

  /** Ends every process the run started; the run itself must have returned or been stopped. */
  @Override
  public void close() {
    children.close();
  }
}
