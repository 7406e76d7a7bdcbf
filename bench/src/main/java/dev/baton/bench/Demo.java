package dev.baton.bench;

import dev.baton.config.Config;
import dev.baton.os.Os;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code baton demo}: the bundled sample under a real {@code baton run}, deployed again and again,
 * back to back, while a load of new connections runs; then what happened, in a few lines.
 */
public final class Demo implements AutoCloseable {
  private final int deploys;
  private final int connections;
  private final Duration longest;
  private final PrintStream out;
  private final Children children = new Children(Os.linux());
  private final AtomicReference<LoadGenerator> load = new AtomicReference<>();
  private volatile boolean stopped;

  /**
   * @param deploys how many deploys, back to back
   * @param connections the load's concurrency, a new connection per request
   * @param longest the load ends after this even if the deploys have not
   */
  public Demo(int deploys, int connections, Duration longest, PrintStream out) {
    if (deploys < 1 || connections < 1 || longest.isZero() || longest.isNegative()) {
      throw new IllegalArgumentException(
          "deploys, connections and the duration must be more than 0");
    }
    this.deploys = deploys;
    this.connections = connections;
    this.longest = longest;
    this.out = out;
  }

  /** What the demo saw; {@link #ok()} when no request failed and every deploy was promoted. */
  public record Result(long requests, long failed, int deploys, int failedDeploys, Path log) {
    public boolean ok() {
      return failed == 0 && failedDeploys == 0 && deploys > 0;
    }
  }

  public Result run() {
    var sample = Sample.locate();
    Path dir;
    try {
      dir = Files.createTempDirectory("baton-demo-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a directory for the demo", e);
    }
    var logFile = dir.resolve("demo.log");
    try (var log = Files.newBufferedWriter(logFile)) {
      out.printf(
          "baton demo: the sample service under `baton run`, deployed %d times back to back while %d%n"
              + "connections send requests, each on a new connection. Working in %s%n%n",
          deploys, connections, dir);
      var started = System.nanoTime();
      try (var service =
          BatonService.start(
              children, sample, dir, log, 0, List.of(), Config.Steer.SHARED, e -> {})) {
        out.printf(
            "supervisor   pid %-7d listening on %s, generation 1 active after %.1f s%n",
            service.supervisorPid().orElse(0),
            service.address().getAddress().getHostAddress() + ":" + service.address().getPort(),
            (System.nanoTime() - started) / 1e9);
        var generator =
            LoadGenerator.start(
                Load.to(service.address())
                    .connectionPerRequest()
                    .get("/")
                    .connections(connections)
                    .duration(longest)
                    .timeout(Duration.ofSeconds(5))
                    .timelineLimit(0)
                    .build());
        load.set(generator);
        var done = new AtomicInteger();
        var failedDeploys = new AtomicInteger();
        var rhythm =
            Rhythm.start(
                service,
                Duration.ZERO,
                deploys,
                reload -> {
                  int n = done.incrementAndGet();
                  if (!reload.ok()) {
                    failedDeploys.incrementAndGet();
                  }
                  out.println(describe(n, reload));
                });
        while (!rhythm.finished() && !generator.report().isDone() && !stopped) {
          sleep(50);
        }
        // A moment of load after the last promotion, so that the last drain happens under load too.
        sleep(500);
        var reloads = rhythm.stop(Duration.ofSeconds(20));
        var report = generator.stop();
        out.println();
        out.printf(
            Locale.ROOT,
            "%d deploys (%d failed) in %.1f s. %,d requests, %,d failed%s.%n",
            reloads.size(),
            failedDeploys.get(),
            report.duration().toNanos() / 1e9,
            report.requests(),
            report.failed(),
            report.failed() == 0 ? "" : " " + report.failures());
        out.printf(
            Locale.ROOT,
            "Latency: mean %.2f ms, p50 %.2f ms, p99 %.2f ms, max %.1f ms.%n",
            report.latencyMean().toNanos() / 1e6,
            report.latencyPercentile(50).toNanos() / 1e6,
            report.latencyPercentile(99).toNanos() / 1e6,
            report.latencyMax().toNanos() / 1e6);
        var promoted = reloads.stream().filter(Reload::ok).mapToDouble(Reload::switchMs).toArray();
        if (promoted.length > 0) {
          out.printf(
              Locale.ROOT,
              "A deploy, command to promoted: median %.0f ms, p99 %.0f ms (a new JVM each time).%n",
              BenchReport.percentile(promoted, 50),
              BenchReport.percentile(promoted, 99));
        }
        if (report.failed() == 0 && failedDeploys.get() == 0 && !reloads.isEmpty()) {
          out.println(
              "Not one request failed while the app was replaced " + reloads.size() + " times.");
        } else {
          report.failureMessages().stream().limit(3).forEach(m -> out.println("  failed: " + m));
        }
        out.println("The log (supervisor and every generation): " + logFile);
        return new Result(
            report.requests(), report.failed(), reloads.size(), failedDeploys.get(), logFile);
      } finally {
        children.endAll(Duration.ofSeconds(10));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + logFile, e);
    }
  }

  private static String describe(int n, Reload r) {
    if (!r.ok()) {
      return String.format(Locale.ROOT, "deploy %2d    FAILED: %s", n, r.failure().orElse(""));
    }
    return String.format(
        Locale.ROOT,
        "deploy %2d    generation %-3d spawned %s  ready %s  promoted %s  old one drained %s",
        n,
        r.generation(),
        ms(r.spawnedMs()),
        ms(r.readyMs()),
        ms(r.promotedMs()),
        ms(r.drainedMs()));
  }

  private static String ms(OptionalDouble value) {
    return value.isPresent()
        ? String.format(Locale.ROOT, "%+7.1f ms", value.getAsDouble())
        : "        -";
  }

  /** Ctrl-C: ends the load; run() then reports what it saw and ends every process. */
  public void stop() {
    stopped = true;
    var generator = load.get();
    if (generator != null) {
      generator.stop();
    }
  }

  @Override
  public void close() {
    children.close();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
