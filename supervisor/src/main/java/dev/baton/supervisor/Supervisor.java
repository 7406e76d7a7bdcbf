package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.Os;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.io.UncheckedIOException;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The long-lived process of one service: binds the listeners once, starts each version of the app
 * as a generation that inherits them, promotes it once ready, parks or drains the old one. Never in
 * the request path. Its state lives on one thread, its {@link Loop}; the roles ({@link Deploy},
 * {@link Retire}, {@link Rollback}, {@link Bake}, {@link CrashRestart}, {@link Recovery}, {@link
 * Upgrade}) are files of their own, and this class holds them together for callers on any thread.
 */
public final class Supervisor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);

  /**
   * A promotion that happened, and what became of the generation it replaced: parked or drained.
   */
  record Deployed(int generation, int pid, Optional<CompletableFuture<DeployEvent>> retired) {}

  /** As the last deploy read the file (ConfigReload), on the loop. */
  private Config config;

  private final Os os;
  private final InstantSource clock;
  private final Generations generations = new Generations();
  private final Retire retire;
  private final CrashRestart crashRestart;
  private DeployRecord deployRecord;
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();

  /** How generations are probed over HTTP; unit tests answer in its place. */
  HttpProbe.Get probe = HttpProbe::get;

  private Loop loop;
  private ListenerSet listeners;
  private StateJournal journal;
  private @Nullable ServiceSockets sockets;
  private Spawner spawner;
  private DeploySlot slot;
  private boolean stopping;
  private boolean started;
  private boolean journalPending;
  private boolean listenersClosed;

  public Supervisor(Config config, Os os, InstantSource clock) {
    this.config = config;
    this.os = os;
    this.clock = clock;
    this.retire = new Retire(this);
    this.crashRestart = new CrashRestart(this);
  }

  /**
   * Binds the listeners and sockets (or takes them back after a crash or an upgrade), starts the
   * loop, then the first generation; one that fails is retried with backoff, and a fixed version
   * can be deployed meanwhile.
   *
   * @throws StartException when a listener or socket cannot be set up; nothing is left open
   */
  public void start() {
    var recovered =
        open(
            Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("baton-probe-", 0).factory()));
    loop.start("baton-loop");
    if (recovered && generations.active().isPresent()) {
      return;
    }
    loop.call(this::firstDeploy).join();
  }

  /**
   * What {@link #start()} does before the loop runs: binds or recovers, opens the sockets; returns
   * whether a service was taken back. {@code blocking} runs blocking work (tests: inline).
   */
  @Initializer
  boolean open(Executor blocking) {
    loop = new Loop(os.poller(), clock, blocking);
    slot = new DeploySlot(loop, this::finishStopIfDone);
    var runtime = Objects.requireNonNull(config.control().socket().toAbsolutePath().getParent());
    var name = config.control().socket().getFileName().toString();
    journal = new StateJournal(runtime.resolve(name + ".state"), os);
    deployRecord = new DeployRecord(runtime.resolve(name + ".deploys"));
    deployRecord.seed(generations);
    Optional<String> recovered;
    try {
      recovered = Recovery.recover(this);
      if (listeners == null) {
        listeners = ListenerSet.bind(os, config);
      }
      sockets = ServiceSockets.open(this, runtime, name);
    } catch (RuntimeException e) {
      // Not drained: what was taken back goes on serving, its journal kept for the next start.
      closeSockets();
      throw e;
    }
    spawner = new Spawner(os, listeners, sockets.notifyPath(), sockets.appControlPath());
    listeners.log(recovered.isEmpty() ? "bound to" : "taken back at");
    journal();
    started = true;
    recovered.ifPresent(summary -> Recovery.announce(this, summary));
    return recovered.isPresent();
  }

  /** The first generation; one that fails is tried again with the crash restart's backoff. */
  CompletableFuture<Void> firstDeploy() {
    return crashRestart.firstDeploy();
  }

  /**
   * Starts a new generation with the config's command, or the request's, and promotes it once it is
   * ready. Completes once it is active, with the retirement of the old one; fails with a {@link
   * DeployException} when it did not become ready, and the active generation keeps serving. {@code
   * progress} is called on the supervisor's loop: it must not block.
   */
  CompletableFuture<Deployed> deploy(Request.Deploy request, Consumer<DeployEvent> progress) {
    return loop.call(
        () -> {
          Config fresh;
          try {
            fresh = ConfigReload.reread(config);
          } catch (DeployException e) {
            return CompletableFuture.failedFuture(e);
          }
          return deploy(fresh, ConfigReload.app(fresh, request), DeployKind.DEPLOY, progress);
        });
  }

  CompletableFuture<Deployed> deploy(
      Config.App app, DeployKind kind, Consumer<DeployEvent> progress) {
    return deploy(config, app, kind, progress);
  }

  /**
   * A deploy under {@code with}, which becomes the config once the deploy holds the slot; a deploy
   * that then fails keeps it, as the file says it (the active generation keeps its own command).
   */
  private CompletableFuture<Deployed> deploy(
      Config with, Config.App app, DeployKind kind, Consumer<DeployEvent> progress) {
    if (stopping) {
      return CompletableFuture.failedFuture(
          new DeployException("the supervisor is stopping; it takes no more deploys"));
    }
    return slot.now(
        () -> {
          String changed;
          try {
            changed = ConfigReload.take(this, with);
          } catch (DeployException e) {
            return CompletableFuture.failedFuture(e);
          }
          config = with;
          return deployRecord.track(
              this, kind, changed, progress, p -> Deploy.run(this, app, kind, changed, p));
        });
  }

  /**
   * Makes the previous generation active again: resumed in milliseconds when it is parked, started
   * again through the full gate otherwise. Waits for a deploy in progress, up to two minutes.
   */
  CompletableFuture<Deployed> rollback(String reason, Consumer<DeployEvent> progress) {
    return loop.call(
        () ->
            stopping
                ? CompletableFuture.failedFuture(
                    new DeployException("the supervisor is stopping; it takes no rollbacks"))
                : slot.whenFree(() -> Rollback.run(this, reason, progress)));
  }

  String busyMessage() {
    return slot.busyMessage();
  }

  /** Holds a new or recovered generation: its exit, its output, and its place in the journal. */
  void adopt(Generation generation, List<String> carriedOutput) {
    generations.add(generation);
    Exits.watch(this, generation);
    generation.output =
        GenerationOutput.start(
            loop, generation, carriedOutput, LogFiles.ofThisProcess().orElse(null));
    journal();
  }

  void deploying(Generation generation) {
    slot.deploying(generation);
  }

  /** Promotes {@code generation}: from now on, its app is the one a crash restarts. */
  void promoted(Generation generation, DeployKind kind, String reason) {
    listeners.own().steerTo(generation);
    generations.promote(generation, kind, reason, loop.now());
    slot.promoted();
    crashRestart.promoted();
    journal();
    Systemd.notify(
        os,
        "READY=1\nSTATUS=generation "
            + generation.number
            + " active"
            + (kind == DeployKind.ROLLBACK ? " (rolled back)" : "")
            + "\nMAINPID="
            + os.pid());
  }

  Status status() {
    if (loop == null || stopped.isDone() || loop.inLoop()) {
      return StatusView.of(this, listeners, slot.isTaken(), crashRestart);
    }
    return loop.call(
            () ->
                CompletableFuture.completedFuture(
                    StatusView.of(this, listeners, slot.isTaken(), crashRestart)))
        .join();
  }

  /** Re-executes the baton build now on disk in this process; returns only by throwing. */
  void upgrade(Runnable beforeExec) {
    loop.call(
            () -> {
              Upgrade.run(this, beforeExec);
              return CompletableFuture.completedFuture(null);
            })
        .join();
  }

  /**
   * Writes the state journal; {@code carried}: per generation, its partial output lines (an
   * upgrade's).
   */
  void journal(Map<Integer, List<String>> carried) {
    if (listeners != null) {
      journal.write(this, listeners, carried);
    }
  }

  /**
   * Writes the state journal once this loop turn is done, so a turn that changes several
   * generations writes it once. A failure costs only the ability to recover: it is logged.
   */
  void journal() {
    if (journalPending) {
      return;
    }
    journalPending = true;
    loop.post(
        () -> {
          journalPending = false;
          if (stopped.isDone()) {
            return; // a stopped service has no journal: the stop removed it
          }
          try {
            journal(Map.of());
          } catch (UncheckedIOException e) {
            LOG.warn("{}: a supervisor restart could not recover this state", e.getMessage());
          }
        });
  }

  /**
   * Drains every generation, then closes the listeners. Generations still starting are killed: they
   * never served. Completes when nothing of the service is left running.
   */
  public CompletableFuture<Void> stop() {
    if (stopped.isDone()) {
      return stopped;
    }
    if (loop == null || !started) {
      closeSockets();
      stopped.complete(null);
      return stopped;
    }
    return loop.call(
        () -> {
          if (!stopping) {
            stopping = true;
            Systemd.notify(os, "STOPPING=1");
            var live = generations.live();
            LOG.info("stopping: draining {} generation(s)", live.size());
            for (var g : live) {
              if (g.is(GenerationState.STARTING) || g.is(GenerationState.READY)) {
                retire.kill(g);
              } else {
                retire.drain(g);
              }
            }
            slot.refuseWaiting("the supervisor is stopping; it takes no rollbacks");
            finishStopIfDone();
          }
          return stopped;
        });
  }

  void finishStopIfDone() {
    if (!stopping || stopped.isDone() || slot.isTaken() || !generations.live().isEmpty()) {
      return;
    }
    closeSockets();
    journal.delete();
    LOG.info("stopped");
    stopped.complete(null);
    loop.stop();
  }

  public CompletableFuture<Void> stopped() {
    return stopped;
  }

  /** Closes each socket once, whichever of a failed open() and stop() comes first. */
  private void closeSockets() {
    if (sockets != null) {
      sockets.close(loop);
    }
    if (listeners != null && !listenersClosed) {
      listenersClosed = true;
      listeners.close();
    }
  }

  @Override
  public void close() {
    stop().join();
  }

  public Config config() {
    return config;
  }

  Os os() {
    return os;
  }

  Loop loop() {
    return loop;
  }

  Generations generations() {
    return generations;
  }

  Spawner spawner() {
    return spawner;
  }

  Retire retire() {
    return retire;
  }

  StateJournal journalFile() {
    return journal;
  }

  void listeners(ListenerSet set) {
    listeners = set;
  }

  boolean isStopping() {
    return stopping;
  }

  ListenerSet listeners() {
    return listeners;
  }

  DeployRecord deployRecord() {
    return deployRecord;
  }

  CrashRestart crashRestart() {
    return crashRestart;
  }

  boolean isBusy() {
    return slot.isTaken();
  }

  /** What a crash restart starts: the last promoted generation's app, or the config's. */
  Config.App lastGood() {
    return generations.lastPromoted().map(g -> g.app).orElse(config.app());
  }
}
