package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.os.Os;
import dev.baton.supervisor.AgentCheck;
import dev.baton.supervisor.LogFiles;
import dev.baton.supervisor.MetricsServer;
import dev.baton.supervisor.RemoteApi;
import dev.baton.supervisor.StartException;
import dev.baton.supervisor.Supervisor;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "run",
    description = {
      "Run the supervisor of one service in the foreground: bind its listeners, start its first"
          + " generation, and serve the control socket until 'baton stop' or SIGTERM.",
      "Works as a systemd Type=notify service: READY=1 goes out once a generation is active."
    })
final class RunCommand implements Callable<Integer> {
  /** main() must not call System.exit while a shutdown hook runs: it would block forever. */
  static final int KEEP_RUNNING = Integer.MIN_VALUE;

  @Mixin ConfigOption config;

  @Override
  public Integer call() {
    var os = Os.linux();
    Supervisor supervisor;
    try {
      supervisor = new Supervisor(config.load(), os, InstantSource.system());
    } catch (ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.USAGE;
    }
    if (supervisor.config().logs().json()) {
      SupervisorLog.useJson();
    }
    try {
      // Opened before the first generation, so that every line it prints goes to the file.
      LogFiles.forConfig(supervisor.config());
    } catch (StartException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.FAILED;
    }
    reopenOnHangup();
    var bySignal = new AtomicBoolean();
    var hook =
        Thread.ofPlatform()
            .unstarted(
                () -> {
                  bySignal.set(true);
                  supervisor.stop().join();
                });
    Runtime.getRuntime().addShutdownHook(hook);
    // Bound before the first generation starts: a token file others can read stops everything here.
    Optional<RemoteApi> remote = Optional.empty();
    Optional<AgentCheck> agent = Optional.empty();
    Optional<MetricsServer> metrics = Optional.empty();
    try {
      remote = supervisor.config().remote().map(r -> RemoteApi.bind(supervisor));
      agent = supervisor.config().agent().map(a -> AgentCheck.bind(supervisor));
      metrics = supervisor.config().metrics().map(m -> MetricsServer.bind(supervisor));
      supervisor.start();
      remote.ifPresent(RemoteApi::start);
      agent.ifPresent(AgentCheck::start);
      metrics.ifPresent(MetricsServer::start);
    } catch (StartException e) {
      System.err.println("baton: " + e.getMessage());
      remote.ifPresent(RemoteApi::close);
      agent.ifPresent(AgentCheck::close);
      metrics.ifPresent(MetricsServer::close);
      supervisor.stop().join();
      Runtime.getRuntime().removeShutdownHook(hook);
      return Main.FAILED;
    }
    keepHeapSmall(supervisor.stopped());
    remote.ifPresent(RemoteApi::close);
    agent.ifPresent(AgentCheck::close);
    metrics.ifPresent(MetricsServer::close);
    return bySignal.get() ? KEEP_RUNNING : 0;
  }

  /** How often the main thread looks at the heap while it waits for the supervisor to stop. */
  private static final long HEAP_CHECK_SECONDS = 10;

  /**
   * Growth of the committed heap since the last collection here that is worth a full collection.
   */
  private static final long HEAP_GROWTH = 2L << 20;

  /**
   * Waits for {@code stopped}, and meanwhile gives back heap that a serial collector grew. Serial
   * GC meets a promotion that does not fit by growing the old generation, not by collecting it, so
   * a supervisor that promotes a few KiB per deploy grows its heap, and its RSS, towards -Xmx over
   * thousands of deploys, with a live set of about 5 MiB. A full collection when the committed heap
   * has grown by {@link #HEAP_GROWTH} compacts it, and with bin/baton's -XX:MaxHeapFreeRatio=30
   * -XX:-ShrinkHeapInSteps uncommits the rest at once. It costs a pause of some 10 ms every few
   * hundred deploys (none when idle), on a process no request passes through. The main thread has
   * nothing else to do here.
   */
  private static void keepHeapSmall(CompletableFuture<Void> stopped) {
    var runtime = Runtime.getRuntime();
    long baseline = runtime.totalMemory();
    while (true) {
      try {
        stopped.get(HEAP_CHECK_SECONDS, TimeUnit.SECONDS);
        return;
      } catch (TimeoutException e) {
        long committed = runtime.totalMemory();
        if (committed - baseline >= HEAP_GROWTH) {
          System.gc();
          baseline = runtime.totalMemory();
        } else {
          // Lower after a collection of the JVM's own, so that growth counts from there.
          baseline = Math.min(baseline, committed);
        }
      } catch (ExecutionException e) {
        throw new CompletionException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopped.join();
        return;
      }
    }
  }

  /**
   * SIGHUP reopens the log file, as logrotate expects (nginx does the same). It no longer stops the
   * supervisor, which is the JVM's default for SIGHUP: a stray hangup must not drain the service.
   */
  private static void reopenOnHangup() {
    var log = org.slf4j.LoggerFactory.getLogger(RunCommand.class);
    try {
      sun.misc.Signal.handle(
          new sun.misc.Signal("HUP"),
          signal -> {
            // The file new generations write to now: a deploy may have named another.
            var logFile = LogFiles.ofThisProcess().orElse(null);
            if (logFile == null) {
              log.info("SIGHUP: there is no [logs] file to reopen");
              return;
            }
            try {
              logFile.reopen();
              log.info("SIGHUP: reopened {}", logFile.path());
            } catch (java.io.UncheckedIOException e) {
              log.warn("SIGHUP: {}; writing on to the file already open", e.getMessage());
            }
          });
    } catch (IllegalArgumentException e) {
      // The JVM runs with -Xrs or SIGHUP is ignored: `baton logs --reopen` still works.
      log.debug("SIGHUP not handled: {}", e.getMessage());
    }
  }
}
