package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.ExitStatus;
import dev.baton.os.NotifySocket;
import dev.baton.os.Os;
import dev.baton.os.Poller;
import dev.baton.os.Signal;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.io.UncheckedIOException;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
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
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();

  /** How generations are probed over HTTP; unit tests answer in its place. */
  HttpProbe.Get probe = HttpProbe::get;

  private Loop loop;
  private ListenerSet listeners;
  private StateJournal journal;
  private NotifySocket notifySocket;
  private AppControl appControl;
  private ControlServer control;
  private Spawner spawner;
  private DeploySlot slot;
  private boolean stopping;
  private boolean started;
  private boolean journalPending;
  private boolean socketsClosed;

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
    Optional<String> recovered;
    try {
      recovered = Recovery.recover(this);
      if (listeners == null) {
        listeners = ListenerSet.bind(os, config);
      }
      notifySocket = NotifyReader.open(this, runtime.resolve(name + ".notify"));
      appControl = AppControl.open(loop, os, runtime.resolve(name + ".app"), generations::byPid);
      // Up before the first generation: systemd's READY=1 promises that `baton status` works.
      control = ControlServer.open(this, loop, os);
    } catch (RuntimeException e) {
      // Not drained: what was taken back goes on serving, its journal kept for the next start.
      closeSockets();
      throw e;
    }
    spawner = new Spawner(os, listeners, notifySocket.path(), appControl.path());
    for (var b : listeners.all()) {
      LOG.info(
          "listener '{}' {} {} ({})",
          b.config().name(),
          recovered.isEmpty() ? "bound to" : "taken back at",
          b.address(),
          b.fd());
    }
    journal();
    started = true;
    recovered.ifPresent(summary -> Recovery.announce(this, summary));
    return recovered.isPresent();
  }

  /** The first generation; one that fails is tried again with the crash restart's backoff. */
  CompletableFuture<Void> firstDeploy() {
    return deploy(config.app(), DeployKind.START, event -> {})
        .handle(
            (d, e) -> {
              if (e != null) {
                LOG.error("first generation failed: {}", DeployException.reason(e));
                crashRestart.failed(DeployException.reason(e));
              }
              return null;
            });
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
          var base = fresh.app();
          var env = new HashMap<>(base.env());
          env.putAll(request.env());
          return deploy(
              fresh,
              new Config.App(request.argv().orElse(base.command()), env, base.workdir()),
              DeployKind.DEPLOY,
              progress);
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
          var changed = ConfigReload.changes(config, with);
          if (!changed.isEmpty()) {
            LOG.info("{}: {} changed, taken by this deploy", with.file(), changed);
          }
          if (!with.listeners().equals(config.listeners())) {
            try {
              listeners.apply(with);
            } catch (DeployException e) {
              return CompletableFuture.failedFuture(e);
            }
            listeners.closeUnheld(generations.live());
            journal();
          }
          config = with;
          return Deploy.run(
              this, app, kind, changed.isEmpty() ? "" : "config: " + changed, progress);
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
    watchExit(generation);
    generation.output =
        GenerationOutput.start(
            loop, generation, carriedOutput, LogFile.ofThisProcess().orElse(null));
    journal();
  }

  private void watchExit(Generation generation) {
    var exitFd = generation.process.exitFd();
    loop.watch(
        exitFd,
        Poller.READABLE,
        events -> {
          // Unwatched before reap() closes the pidfd; watched again if it has not exited after all.
          loop.unwatch(exitFd);
          // Whatever the app left behind in its process group goes with it: no orphans. Before the
          // reap, while the unreaped leader still holds its pid and so the group's id.
          os.signalGroup(generation.pid(), Signal.KILL);
          generation
              .process
              .reap()
              .ifPresentOrElse(status -> exited(generation, status), () -> watchExit(generation));
        });
  }

  void deploying(Generation generation) {
    slot.deploying(generation);
  }

  private void exited(Generation generation, ExitStatus status) {
    generation.exitStatus = Optional.of(status);
    generation.exitedAt = Optional.of(loop.now());
    boolean crashed = generations.isActive(generation);
    switch (generation.state()) {
      case DRAINING -> generation.moveTo(GenerationState.EXITED);
      case ACTIVE -> {
        generation.moveTo(GenerationState.FAILED);
        generation.reason =
            crashed ? "crashed: " + status : "exited while it was being parked: " + status;
      }
      case PARKED -> {
        generation.moveTo(GenerationState.FAILED);
        generation.reason = "exited while parked: " + status;
      }
      case STARTING, READY -> generation.moveTo(GenerationState.FAILED);
      case EXITED, FAILED -> {}
    }
    generations.retire(generation);
    listeners.closeUnheld(generations.live());
    if (crashed && generation.baking) {
      Bake.failed(this, "bake failed: " + generation + " " + status);
    } else if (crashed) {
      crashRestart.crashed(generation, status);
    }
    journal();
    LOG.info("{} {}", generation, status);
    finishStopIfDone();
  }

  /** Promotes {@code generation}: from now on, its app is the one a crash restarts. */
  void promoted(Generation generation, DeployKind kind, String reason) {
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
      return statusNow();
    }
    return loop.call(() -> CompletableFuture.completedFuture(statusNow())).join();
  }

  private Status.ListenerStatus listenerStatus(ListenerSet.Bound b, boolean retired) {
    return new Status.ListenerStatus(
        b.config().name(),
        b.address(),
        b.config().pass() == Config.Pass.FD0 ? "fd0" : "listen-fds",
        b.fd().value(),
        generations.live().stream().filter(g -> g.holds(b.fd())).map(g -> g.number).toList(),
        retired);
  }

  private Status statusNow() {
    var ls =
        listeners == null
            ? List.<Status.ListenerStatus>of()
            : java.util.stream.Stream.concat(
                    listeners.all().stream().map(b -> listenerStatus(b, false)),
                    listeners.retired().stream().map(b -> listenerStatus(b, true)))
                .toList();
    return generations.status(os.pid(), slot.isTaken(), crashRestart.crashLoop().orElse(null), ls);
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

  private void finishStopIfDone() {
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
    if (socketsClosed) {
      return;
    }
    socketsClosed = true;
    if (control != null) {
      control.close();
    }
    if (appControl != null) {
      appControl.close();
    }
    if (notifySocket != null) {
      loop.unwatch(notifySocket.fd());
      notifySocket.close();
    }
    if (listeners != null) {
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

  boolean isBusy() {
    return slot.isTaken();
  }

  /** What a crash restart starts: the last promoted generation's app, or the config's. */
  Config.App lastGood() {
    return generations.lastPromoted().map(g -> g.app).orElse(config.app());
  }
}
