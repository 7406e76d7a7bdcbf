package dev.baton.cli;

import dev.baton.bench.Bench;
import dev.baton.bench.BenchPlan;
import dev.baton.bench.LoadMode;
import dev.baton.bench.LongLivedPlan;
import dev.baton.bench.LongLivedRun;
import dev.baton.bench.NetworkNamespace;
import dev.baton.bench.Placement;
import dev.baton.bench.SampleKind;
import dev.baton.bench.Scenario;
import dev.baton.bench.SteadyPlan;
import dev.baton.bench.SteadyRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "bench",
    sortOptions = false,
    description = {
      "Put a service under load while it is replaced at a fixed rhythm, the ways that lose requests and baton's"
          + " way, one after another on this machine; report failed requests by kind, latency, deploy timings and"
          + " the supervisor's cost, with a PNG of latency over time per load and a JSON file with everything.",
      "",
      "Scenarios: none (the baseline: started once), stop-start (SIGTERM, wait, start), reuseport (a SO_REUSEPORT"
          + " socket per generation; as root also with net.ipv4.tcp_migrate_req=1, in a network namespace of its"
          + " own), baton (baton run, deploys over its control socket; beside none, also without deploys, as"
          + " baton-steady); by name, baton-bpf (the same with steer = \"bpf\": a socket per generation,"
          + " new connections sent to the active one by BPF; needs root or CAP_BPF).",
      "Loads: c=1 (one request at a time, a new connection each, like ab -c 1), c=N per-request, c=N keep-alive."
          + " Only loopback (or bench's own network namespace) is loaded.",
      "",
      "--steady: throughput without deploys, like with like. Five copies of the sample run at once, idle unless"
          + " loaded: bare twice (A and A', the A/A control), under a plain fork/exec parent that hands it the"
          + " listener on fd 3 (its child in bench's session, and calling setsid), and under baton run; each started"
          + " alike (--placement). Each load goes to one at a time in slices, the order rotated and flipped every"
          + " round; the report gives median req/s and per-round ratios (baton/parent is the one that counts),"
          + " with quartiles and the median's 95 %% range, and warns when the A/A control scatters by more than"
          + " ±1 %%. report.txt, report.json and steady-table.md go to --out.",
      "",
      "--long-lived ws|h2c: long-lived connections through constant deploys. The Netty example runs under"
          + " baton run with [park] max = 0 and the given [drain] timeout and max_draining; a fleet of"
          + " --clients WebSocket (or h2c) clients, opened at 200 a second (over 10 s at most),"
          + " sends a message a second on each, and"
          + " reconnects after a random delay when a draining generation ends its connection politely;"
          + " meanwhile a deploy every --rhythm (default 1s) for --duration (default 5m). It passes when the"
          + " generations serving (active + draining, sampled every 100 ms) never exceed max_draining + 1,"
          + " no connection ends abnormally, every message is answered, no second's reconnects reach twice"
          + " the even spread, and the supervisor's RSS (and the host's MemAvailable) stay flat."
          + " report.txt, report.json and long-lived.png go to --out.",
      "",
      "Examples:",
      "  baton bench --short                    # ~20 s: the CI check",
      "  baton bench --duration 30s --out DIR   # all scenarios and loads; wrk, ab",
      "  baton bench --scenarios baton --requests 1000000 --duration 10m",
      "  baton bench --sample light            # an app that starts in milliseconds",
      "  baton bench -c baton.toml --keepalive  # your running service",
      "  baton bench --steady --sample light    # bare, parent, baton run: ~8 min",
      "  baton bench --steady --short           # ~20 s: a check, not a figure",
      "  baton bench --long-lived ws            # 2000 WebSockets, a deploy a second, 5 min",
      "  baton bench --long-lived h2c --clients 200 --duration 30s --drain-window 10s"
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  done, and the baton scenario failed no request",
      "     (--steady: no server failed one; --long-lived: every check passed)",
      "  1  the baton scenario failed requests or deploys, or could not run",
      "     (--steady: any server did, or one could not be measured;",
      "     --long-lived: a check or a deploy failed, or the run could not finish)",
      "  2  bad usage: unknown scenario, zero duration, concurrency over ulimit -n,",
      "     a target not listening"
    })
final class BenchCommand implements Callable<Integer> {
  @Option(
      names = "--short",
      description = "the CI run: about 20 s in all, 4 s per scenario, per-request load only")
  boolean shortRun;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description =
          "where the report, report.json, the plots and logs go (default: ${DEFAULT-VALUE})",
      defaultValue = "baton-bench-report")
  Path out;

  @Option(
      names = "--scenarios",
      paramLabel = "LIST",
      split = ",",
      description =
          "some of none,stop-start,reuseport,baton (default: all); variants by name: reuseport-migrate, baton-steady, baton-bpf")
  List<String> scenarios = new ArrayList<>();

  @Option(
      names = "--modes",
      paramLabel = "LIST",
      split = ",",
      description = "some of c1,per-request,keep-alive (default: all three; --short: per-request)")
  List<String> modes = new ArrayList<>();

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      description = "requests in flight at once in the c=N loads (default: 50; --short: 8)")
  @Nullable Integer concurrency;

  @Option(
      names = "--keepalive",
      description = "only the keep-alive load at c=N; same as --modes keep-alive")
  boolean keepAlive;

  @Option(names = "--post", description = "POST a 512-byte body instead of GET")
  boolean post;

  @Option(
      names = "--duration",
      paramLabel = "D",
      description = "how long each load runs: 500ms, 30s, 5m (default: 30s; --short: 4s)")
  Optional<Duration> duration = Optional.empty();

  @Option(
      names = "--requests",
      paramLabel = "N",
      description = "the most requests each load sends (default: no limit but the duration)")
  @Nullable Long requests;

  @Option(
      names = "--rhythm",
      paramLabel = "D",
      description =
          "a reload every D; slower reloads go back to back; 0 for always back to back (default: 100ms)")
  Optional<Duration> rhythm = Optional.empty();

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description =
          "bench your running service instead of the bundled sample: loads its listener and deploys it"
              + " over its control socket (the baton scenario only); it is left running")
  @Nullable Path config;

  @Option(
      names = "--sample",
      paramLabel = "KIND",
      description =
          "which bundled sample to replace: jvm (a JVM starts in each reload) or light (python3 -S,"
              + " starts in milliseconds) (default: ${DEFAULT-VALUE})",
      defaultValue = "jvm")
  String sample;

  @Option(
      names = "--app-arg",
      paramLabel = "ARG",
      description = "an option for the sample, e.g. --app-arg=--work=1ms")
  List<String> appArgs = new ArrayList<>();

  @Option(names = "--no-cross-check", description = "do not run wrk and ab beside bench's own load")
  boolean noCrossCheck;

  @Option(
      names = "--no-netns",
      description =
          "as root, do not move into a network namespace of bench's own (no reuseport-migrate)")
  boolean noNetns;

  @Option(
      names = "--steady",
      description =
          "throughput without deploys: the sample bare (twice), under a fork/exec parent and under baton run, loaded in turn (see above)")
  boolean steady;

  @Option(
      names = "--rounds",
      paramLabel = "N",
      description =
          "--steady: how many rounds, each a slice of every load on every server; a multiple of 10 places all alike (default: 30; --short: 3)")
  @Nullable Integer rounds;

  @Option(
      names = "--slice",
      paramLabel = "D",
      description = "--steady: how long one slice of load lasts (default: 1s; --short: 250ms)")
  Optional<Duration> slice = Optional.empty();

  @Option(
      names = "--placement",
      paramLabel = "HOW",
      description =
          "--steady: how bench starts each server or its parent: group, in a process group of its own in bench's session, or session, in a session of its own (default: group)")
  @Nullable String placement;

  @Option(
      names = "--load-threads",
      paramLabel = "N",
      description =
          "--steady: the load generator's threads (default: 2, or the cores if fewer); with a one-thread app, 1 on 2 cores leaves it a core of its own")
  @Nullable Integer loadThreads;

  @Option(names = "--json", description = "print report.json on stdout instead of the text report")
  boolean json;

  @Mixin LongLivedOptions longLived = new LongLivedOptions();

  @Override
  public Integer call() throws Exception {
    if (longLived.chosen()) {
      return longLived();
    }
    if (longLived.anyWithoutMode()) {
      System.err.println(
          "baton bench: --clients, --drain-window, --max-draining and --reconnect-jitter are for"
              + " --long-lived; add --long-lived ws (or h2c), or drop them");
      return Main.USAGE;
    }
    if (steady) {
      return steady();
    }
    if (rounds != null || slice.isPresent() || placement != null || loadThreads != null) {
      System.err.println(
          "baton bench: --rounds, --slice, --placement and --load-threads are for --steady; add --steady, or drop them");
      return Main.USAGE;
    }
    BenchPlan plan;
    boolean relaunch;
    try {
      relaunch = wantsNamespace();
      plan = plan(NetworkNamespace.inside());
    } catch (IllegalArgumentException e) {
      System.err.println("baton bench: " + e.getMessage());
      return Main.USAGE;
    }
    if (relaunch) {
      System.err.println(
          "baton bench: moving into a network namespace of its own, so that tcp_migrate_req can be set there");
      return NetworkNamespace.relaunch();
    }
    if (!shortRun && !NetworkNamespace.inside() && wantsReusePort() && config == null) {
      var reason = noNetns ? Optional.of("--no-netns") : NetworkNamespace.unavailableBecause();
      reason.ifPresent(
          r ->
              System.err.println(
                  "baton bench: reuseport runs with this host's net.ipv4.tcp_migrate_req only;"
                      + " the tcp_migrate_req=1 variant is skipped: "
                      + r));
    }
    Bench bench;
    try {
      bench = Bench.prepare(plan, line -> System.err.println("bench: " + line));
    } catch (IllegalArgumentException e) {
      System.err.println("baton bench: " + e.getMessage());
      return Main.USAGE;
    }
    var finished =
        untilInterrupted(
            "the load, the rhythm and every process bench started",
            bench::stop,
            bench::close,
            bench::run,
            r -> json ? Files.readString(r.json()) + "\n" : r.text());
    if (finished == null) {
      return RunCommand.KEEP_RUNNING;
    }
    var trouble = finished.batonTrouble();
    if (finished.batonFailures() > 0 || trouble.isPresent()) {
      System.err.println(
          "baton bench: the baton scenario "
              + (finished.batonFailures() > 0
                  ? "failed " + finished.batonFailures() + " requests"
                  : "had trouble: " + trouble.get()));
      return Main.FAILED;
    }
    return 0;
  }

  /** --steady: its own servers and loads; the deploy scenarios' options do not apply. */
  private int steady() throws Exception {
    SteadyRun run;
    try {
      run = SteadyRun.prepare(steadyPlan(), line -> System.err.println("bench: " + line));
    } catch (IllegalArgumentException e) {
      System.err.println("baton bench: " + e.getMessage());
      return Main.USAGE;
    }
    var report =
        untilInterrupted(
            "the slice under way and every server bench started",
            run::stop,
            run::close,
            run::run,
            r -> json ? Files.readString(r.json()) + "\n" : r.text());
    if (report == null) {
      return RunCommand.KEEP_RUNNING;
    }
    if (report.failed() > 0 || report.trouble().isPresent()) {
      System.err.println(
          "baton bench: --steady "
              + (report.failed() > 0
                  ? "saw " + report.failed() + " failed requests"
                  : "could not measure everything: " + report.trouble().get()));
      return Main.FAILED;
    }
    return 0;
  }

  /** --long-lived: its own service and fleet; the load scenarios' options do not apply. */
  private int longLived() throws Exception {
    LongLivedRun run;
    try {
      run = LongLivedRun.prepare(longLivedPlan(), line -> System.err.println("bench: " + line));
    } catch (IllegalArgumentException e) {
      System.err.println("baton bench: " + e.getMessage());
      return Main.USAGE;
    }
    var report =
        untilInterrupted(
            "the deploys, the fleet and every process bench started",
            run::stop,
            run::close,
            run::run,
            r -> json ? Files.readString(r.json()) + "\n" : r.text());
    if (report == null) {
      return RunCommand.KEEP_RUNNING;
    }
    var trouble = report.trouble();
    if (trouble.isPresent()) {
      System.err.println("baton bench: --long-lived " + trouble.get());
      return Main.FAILED;
    }
    return 0;
  }

  LongLivedPlan longLivedPlan() {
    var notHere = new ArrayList<String>();
    if (steady) {
      notHere.add("--steady");
    }
    if (shortRun) {
      notHere.add("--short (give --clients and --duration)");
    }
    if (!scenarios.isEmpty() || config != null) {
      notHere.add("--scenarios and -c (it runs the Netty example under baton run)");
    }
    if (!modes.isEmpty() || concurrency != null || keepAlive || post || requests != null) {
      notHere.add("--modes, --concurrency, --keepalive, --post and --requests (use --clients)");
    }
    if (!appArgs.isEmpty()) {
      notHere.add("--app-arg");
    }
    if (rounds != null || slice.isPresent() || placement != null || loadThreads != null) {
      notHere.add("--rounds, --slice, --placement and --load-threads");
    }
    if (!notHere.isEmpty()) {
      throw new IllegalArgumentException(
          "--long-lived does not take " + String.join(", ", notHere));
    }
    return longLived.plan(duration, rhythm, out, json);
  }

  /** A run, from the hook's installation to its report. */
  private interface Run<R> {
    R run() throws Exception;
  }

  /** A report as printed: text, or JSON read from its file. */
  private interface Print<R> {
    String text(R report) throws IOException;
  }

  /**
   * Runs {@code body} and prints its report, with a Ctrl-C hook that calls {@code stop} and then
   * waits while this thread prints the partial report before {@code close}; null after Ctrl-C.
   */
  private static <R> @Nullable R untilInterrupted(
      String stopping, Runnable stop, Runnable close, Run<R> body, Print<R> print)
      throws Exception {
    var interrupted = new AtomicBoolean();
    var printed = new CountDownLatch(1);
    var hook =
        Thread.ofPlatform()
            .unstarted(
                () -> {
                  interrupted.set(true);
                  System.err.println("\nbench: stopping: " + stopping);
                  stop.run();
                  try {
                    printed.await(60, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  close.run();
                });
    Runtime.getRuntime().addShutdownHook(hook);
    R report;
    try {
      report = body.run();
      System.out.print(print.text(report));
      System.out.flush();
    } finally {
      close.run();
      printed.countDown();
    }
    if (interrupted.get()) {
      return null;
    }
    Runtime.getRuntime().removeShutdownHook(hook);
    return report;
  }

  SteadyPlan steadyPlan() {
    var notHere = new ArrayList<String>();
    if (!scenarios.isEmpty()) {
      notHere.add("--scenarios (it runs its own five servers)");
    }
    if (config != null) {
      notHere.add("-c (it measures the bundled sample)");
    }
    if (duration.isPresent() || requests != null) {
      notHere.add("--duration and --requests (use --slice and --rounds)");
    }
    if (rhythm.isPresent()) {
      notHere.add("--rhythm (nothing is deployed)");
    }
    if (!notHere.isEmpty()) {
      throw new IllegalArgumentException("--steady does not take " + String.join(", ", notHere));
    }
    int n = concurrency != null ? concurrency : 50;
    if (n < 1) {
      throw new IllegalArgumentException("--concurrency must be at least 1, was " + n);
    }
    if (loadThreads != null && loadThreads < 1) {
      throw new IllegalArgumentException("--load-threads must be from 1 to 64, was " + loadThreads);
    }
    var modeList =
        keepAlive
            ? "keep-alive"
            : !modes.isEmpty() ? String.join(",", modes) : "c1,per-request,keep-alive";
    var sliceLength = slice.orElse(Duration.ofMillis(shortRun ? 250 : 1000));
    return new SteadyPlan(
        SampleKind.parse(sample),
        LoadMode.parse(modeList, n),
        post,
        rounds != null ? rounds : shortRun ? 3 : 30,
        sliceLength,
        placement == null ? Placement.GROUP : Placement.parse(placement),
        loadThreads == null ? 0 : loadThreads,
        out,
        appArgs);
  }

  private boolean wantsReusePort() {
    return scenarios.isEmpty()
        || scenarios.stream().anyMatch(s -> s.trim().startsWith("reuseport"));
  }

  private boolean wantsNamespace() {
    return !shortRun
        && !noNetns
        && config == null
        && !NetworkNamespace.inside()
        && wantsReusePort()
        && NetworkNamespace.unavailableBecause().isEmpty();
  }

  BenchPlan plan(boolean migrateSettable) {
    int n = concurrency != null ? concurrency : shortRun ? 8 : 50;
    if (n < 1) {
      throw new IllegalArgumentException("--concurrency must be at least 1, was " + n);
    }
    var modeList =
        keepAlive
            ? "keep-alive"
            : !modes.isEmpty()
                ? String.join(",", modes)
                : shortRun ? "per-request" : "c1,per-request,keep-alive";
    var scenarioList =
        scenarios.isEmpty()
            ? (config != null ? "baton" : String.join(",", Scenario.NAMES))
            : String.join(",", scenarios);
    return new BenchPlan(
        // baton-steady is there to be compared with the bare baseline: it runs when none does.
        Scenario.parse(
            scenarioList,
            migrateSettable && !shortRun,
            !shortRun && List.of(scenarioList.split(",")).contains("none")),
        LoadMode.parse(modeList, n),
        post,
        duration.orElse(Duration.ofSeconds(shortRun ? 4 : 30)),
        requests == null ? Long.MAX_VALUE : requests,
        rhythm.orElse(Duration.ofMillis(100)),
        out,
        Optional.ofNullable(config),
        !shortRun && !noCrossCheck,
        SampleKind.parse(sample),
        appArgs);
  }
}
