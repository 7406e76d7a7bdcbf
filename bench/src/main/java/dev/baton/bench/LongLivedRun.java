package dev.baton.bench;

import dev.baton.os.Os;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The Netty example under baton run, a fleet of long-lived clients on it, and a deploy every second
 * or so: what issue 14 asks of draining generations, measured. The supervisor's status is read
 * every 100 ms for the generations serving; every second the fleet's tally, the supervisor's RSS
 * and the host's MemAvailable are written down.
 *
 * <pre>{@code
 * try (var run = LongLivedRun.prepare(plan, System.err::println)) {
 *   LongLivedReport report = run.run();
 * }
 * }</pre>
 */
public final class LongLivedRun implements AutoCloseable {
  static final String LIB = "examples/target/lib";
  static final String MAIN = "dev.baton.examples.NettyExample";

  /** A unix socket's path must fit in sun_path's 108 bytes. */
  private static final int MAX_SOCKET_PATH = 100;

  /** How often a run says how far it is. */
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(30);

  private final LongLivedPlan plan;
  private final Consumer<String> progress;
  private final Path lib;
  private final Children children = new Children(Os.linux());
  private final LongLivedSamples samples = new LongLivedSamples();
  private final AtomicInteger deploys = new AtomicInteger();
  private final AtomicInteger failedDeploys = new AtomicInteger();
  private volatile @Nullable BatonService service;
  private volatile @Nullable LongLivedClients fleet;
  private volatile boolean stopped;

  private LongLivedRun(LongLivedPlan plan, Consumer<String> progress, Path lib) {
    this.plan = plan;
    this.progress = progress;
    this.lib = lib;
  }

  /**
   * Checks what can be checked before anything starts: the example is built, the descriptor limit
   * covers the fleet, the output directory can be made and can hold the control socket.
   *
   * @throws IllegalArgumentException with what is wrong and what to do
   */
  public static LongLivedRun prepare(LongLivedPlan plan, Consumer<String> progress) {
    long limit = Bench.openFileLimit();
    // The fleet's connections are in this process; the example's ends are in the generation's.
    if (plan.clients() + 256L > limit) {
      throw new IllegalArgumentException(
          plan.clients()
              + " clients need more file descriptors than the limit of "
              + limit
              + " (ulimit -n) allows; raise it (ulimit -n "
              + (plan.clients() + 1024)
              + ") or lower --clients");
    }
    var home =
        Sample.home()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "cannot find the baton tree (no -Dbaton.home, and no "
                            + Sample.JAR
                            + " above "
                            + Path.of("").toAbsolutePath()
                            + "); run bench through bin/baton, or from inside the tree"));
    var lib = home.resolve(LIB);
    if (!hasExamplesJar(lib)) {
      throw new IllegalArgumentException(
          "the Netty example is not built: "
              + lib
              + " holds no baton-examples jar; build it with"
              + " 'mvn -q -pl examples -am package -DskipTests' in "
              + home);
    }
    var out = plan.out().toAbsolutePath();
    if (out.resolve("baton.sock").toString().length() > MAX_SOCKET_PATH) {
      throw new IllegalArgumentException(
          "--out " + out + " is too long a path for the control socket; choose a shorter one");
    }
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot create the output directory " + out + ": " + e.getMessage());
    }
    return new LongLivedRun(plan, progress, lib);
  }

  private static boolean hasExamplesJar(Path lib) {
    try (var files = Files.list(lib)) {
      return files.anyMatch(f -> f.getFileName().toString().startsWith("baton-examples"));
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The supervisor's config: the example on one loopback port, readiness by notify and /healthz,
   * the plan's drain window and max_draining, and no parking, since a parked generation would keep
   * its long-lived connections open for as long as it stays parked.
   */
  static String config(LongLivedPlan plan, List<String> command, int metricsPort) {
    return """
        # Written by baton bench --long-lived: the Netty example under a real supervisor.
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"

        [readiness]
        notify = true
        http = "/healthz"
        timeout = "30s"

        [drain]
        timeout = "%dms"
        max_draining = %d

        [park]
        max = 0

        [control]
        socket = "baton.sock"

        [metrics]
        address = "127.0.0.1:%d"
        """
        .formatted(toml(command), plan.drainWindow().toMillis(), plan.maxDraining(), metricsPort);
  }

  /** A small JVM, as the other samples run: C1 only, the serial collector, a bounded heap. */
  List<String> command() {
    return List.of(
        BatonService.java().toString(),
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-Xmx256m",
        "-cp",
        lib.resolve("*").toString(),
        MAIN);
  }

  private static String toml(List<String> words) {
    var quoted = new ArrayList<String>();
    for (var w : words) {
      quoted.add("\"" + w.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
    }
    return "[" + String.join(", ", quoted) + "]";
  }

  /**
   * Starts the supervisor and the fleet, deploys for the plan's duration, closes the fleet, stops
   * the supervisor; returns the report, partial when stopped or broken.
   */
  public LongLivedReport run() {
    var started = Instant.now();
    var out = plan.out().toAbsolutePath();
    String error = null;
    LongLivedTally end = null;
    double rampEnd = 0;
    double deployEnd = 0;
    OptionalLong hurried = OptionalLong.empty();
    long fleetStart = System.nanoTime();
    Thread sampler = null;
    try (Writer log = Files.newBufferedWriter(out.resolve("baton.log"), StandardCharsets.UTF_8)) {
      int metricsPort = Children.freePort();
      progress.accept("starting baton run with " + MAIN + " from " + lib);
      var baton =
          BatonService.start(
              children, config(plan, command(), metricsPort), out, log, this::onEvent);
      service = baton;
      if (stopped) {
        throw new Children.Stopped();
      }
      progress.accept(
          String.format(
              Locale.ROOT,
              "opening %d %s clients on %s over %d s",
              plan.clients(),
              plan.kind(),
              baton.address(),
              plan.ramp().toSeconds()));
      fleetStart = System.nanoTime();
      sampler = LongLivedSampler.start(baton, fleetStart, plan.clients(), samples, () -> fleet);
      var clients =
          LongLivedClients.start(
              plan.fleetKind(),
              baton.address(),
              plan.clients(),
              Duration.ofSeconds(1),
              plan.jitter(),
              plan.ramp());
      fleet = clients;
      rampEnd = secondsSince(fleetStart);
      progress.accept(
          String.format(
              Locale.ROOT,
              "%d open after %.1f s; deploying every %d ms for %d s",
              clients.tally().open(),
              rampEnd,
              plan.every().toMillis(),
              plan.duration().toSeconds()));
      var rhythm = Rhythm.start(baton, plan.every(), Integer.MAX_VALUE, r -> {});
      long until = System.nanoTime() + plan.duration().toNanos();
      long nextNote = System.nanoTime() + PROGRESS_EVERY.toNanos();
      while (!stopped && System.nanoTime() - until < 0) {
        Children.sleep(
            Duration.ofMillis(Math.min(1000, (until - System.nanoTime()) / 1_000_000 + 1)));
        if (System.nanoTime() - nextNote >= 0) {
          nextNote += PROGRESS_EVERY.toNanos();
          progress.accept(note(clients.tally(), secondsSince(fleetStart) - rampEnd));
        }
      }
      deployEnd = secondsSince(fleetStart);
      rhythm.stop(Duration.ZERO);
      hurried = LongLivedSampler.hurried(metricsPort);
      progress.accept("closing the fleet");
      clients.close();
      fleet = null;
      end = clients.tally();
    } catch (Children.Stopped e) {
      error = "stopped";
    } catch (IOException | RuntimeException e) {
      error = String.valueOf(e.getMessage());
      progress.accept("could not run to its end: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      error = "interrupted";
    } finally {
      if (sampler != null) {
        sampler.interrupt();
        join(sampler);
      }
      closeFleet();
      endAll();
    }
    if (end == null) {
      end = new LongLivedTally(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }
    var ticks = samples.ticks(rampEnd, deployEnd);
    var seconds = samples.seconds(rampEnd, deployEnd);
    var verdict = LongLivedVerdict.judge(plan.maxDraining(), ticks, seconds, end);
    var report =
        new LongLivedReport(
            plan,
            started,
            Instant.now(),
            stopped,
            error,
            rampEnd,
            deployEnd,
            deploys.get(),
            failedDeploys.get(),
            hurried,
            end,
            samples.ticks(),
            samples.seconds(),
            verdict);
    try {
      report.write();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report into " + out, e);
    }
    return report;
  }

  /** A line of progress: what a five-minute run has done so far, for whoever watches it. */
  private String note(LongLivedTally tally, double seconds) {
    var last = samples.seconds();
    var serving = last.isEmpty() ? 0 : last.getLast().serving();
    return String.format(
        Locale.ROOT,
        "%.0f s: %d deploys, %d serving, %d open, %,d reconnects, %d abnormal, %,d of %,d answered",
        seconds,
        deploys.get(),
        serving,
        tally.open(),
        tally.reconnects(plan.clients()),
        tally.abnormalEnds(),
        tally.answered(),
        tally.sent());
  }

  private void onEvent(DeployEvent event) {
    if (event.step() == DeployStep.PROMOTED) {
      deploys.incrementAndGet();
    } else if (event.step() == DeployStep.FAILED) {
      failedDeploys.incrementAndGet();
    }
  }

  static double secondsSince(long nanos) {
    return (System.nanoTime() - nanos) / 1e9;
  }

  private static void join(Thread thread) {
    try {
      thread.join(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Ctrl-C: ends the deploys; run() then closes the fleet, stops the supervisor and reports. */
  public void stop() {
    stopped = true;
  }

  /** Ends the fleet and every process started; safe from a shutdown hook, and more than once. */
  @Override
  public void close() {
    stopped = true;
    closeFleet();
    endAll();
  }

  private void closeFleet() {
    var clients = fleet;
    fleet = null;
    if (clients != null) {
      try {
        clients.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The supervisor drains its generations and exits; each process left is ended by its pid. */
  private void endAll() {
    var baton = service;
    service = null;
    if (baton != null) {
      baton.close();
    }
    children.close();
  }
}
