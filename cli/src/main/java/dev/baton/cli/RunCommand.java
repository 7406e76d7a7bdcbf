package dev.baton.cli;

import dev.baton.os.Os;
import dev.baton.supervisor.AgentCheck;
import dev.baton.config.ConfigException;
import dev.baton.supervisor.LogFile;
import dev.baton.supervisor.RemoteApi;
import dev.baton.supervisor.StartException;
import dev.baton.supervisor.Supervisor;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.Callable;
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
    Optional<LogFile> logFile;
    try {
      // Opened before the first generation, so that every line it prints goes to the file.
      logFile = LogFile.forConfig(supervisor.config());
    } catch (StartException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.FAILED;
    }
    reopenOnHangup(logFile);
    var bySignal = new AtomicBoolean();
    var hook = Thread.ofPlatform().unstarted(() -> {
      bySignal.set(true);
      supervisor.stop().join();
    });
    Runtime.getRuntime().addShutdownHook(hook);
    // Bound before the first generation starts: a token file others can read stops everything here.
    Optional<RemoteApi> remote = Optional.empty();
    Optional<AgentCheck> agent = Optional.empty();
    try {
      remote = supervisor.config().remote().map(r -> RemoteApi.bind(supervisor));
      agent = supervisor.config().agent().map(a -> AgentCheck.bind(supervisor));
      supervisor.start();
      remote.ifPresent(RemoteApi::start);
      agent.ifPresent(AgentCheck::start);
    } catch (StartException e) {
      System.err.println("baton: " + e.getMessage());
      remote.ifPresent(RemoteApi::close);
      agent.ifPresent(AgentCheck::close);
      supervisor.stop().join();
      Runtime.getRuntime().removeShutdownHook(hook);
      return Main.FAILED;
    }
    supervisor.stopped().join();
    remote.ifPresent(RemoteApi::close);
    agent.ifPresent(AgentCheck::close);
    return bySignal.get() ? KEEP_RUNNING : 0;
  }

  /**
   * SIGHUP reopens the log file, as logrotate expects (nginx does the same). It no longer stops the
   * supervisor, which is the JVM's default for SIGHUP: a stray hangup must not drain the service.
   */
  private static void reopenOnHangup(Optional<LogFile> logFile) {
    var log = org.slf4j.LoggerFactory.getLogger(RunCommand.class);
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
        if (logFile.isEmpty()) {
          log.info("SIGHUP: there is no [logs] file to reopen");
          return;
        }
        try {
          logFile.get().reopen();
          log.info("SIGHUP: reopened {}", logFile.get().path());
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
