package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.os.ExitStatus;
import dev.baton.os.Fd;
import dev.baton.os.ListenAddress;
import dev.baton.os.NativeException;
import dev.baton.os.NotifyMessage;
import dev.baton.os.NotifySocket;
import dev.baton.os.Os;
import dev.baton.os.Signal;
import dev.baton.os.SpawnSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The long-lived process of one service. It binds the listeners once, starts each version of the
 * app as a generation that inherits them, promotes a new generation only once it is ready, and
 * drains the old one. It is never in the request path: the kernel hands connections straight to
 * whichever generation accepts them.
 *
 * <p>Deploys are serialized by {@link #deploySlot} up to the promotion; drains run concurrently
 * after it, so a fast redeploy rhythm never waits for a slow drain.
 */
public final class Supervisor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);

  /** A crash after this long as the active generation starts the backoff over. */
  private static final Duration STABLE = Duration.ofSeconds(10);

  /** Generations kept in status after they ended, and deploys and rollbacks kept in history. */
  private static final int HISTORY = 20;

  /** How long a baton-app generation may take to answer PAUSE or RESUME. */
  private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(5);

  private final Config config;
  private final Os os;
  private final InstantSource clock;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("supervisor-timer").factory());

  /** One deploy (or crash restart) at a time, from spawn to promotion. */
  private final Semaphore deploySlot = new Semaphore(1);

  private final CompletableFuture<Void> stopped = new CompletableFuture<>();

  private final ReentrantLock lock = new ReentrantLock();
  // Guarded by lock.
  private final List<Generation> generations = new ArrayList<>();
  private Optional<Generation> active = Optional.empty();
  private Optional<Generation> deploying = Optional.empty();
  /** Parked generations, oldest first. */
  private final ArrayDeque<Generation> parked = new ArrayDeque<>();
  /** Every generation that was ever active, in order: what a rollback with nothing parked goes back to. */
  private final List<Generation> promotions = new ArrayList<>();
  private final ArrayDeque<Status.HistoryEntry> history = new ArrayDeque<>();
  private int nextNumber = 1;
  private boolean stopping;
  private volatile boolean started;
  private Config.App lastGood;
  private int crashes;
  private Optional<Instant> restartAt = Optional.empty();
  private String lastCrash = "";

  private ListenerSet listeners;
  /** The listeners as the journal names them; they never change once bound, so read /proc once. */
  private List<StateJournal.ListenerEntry> journalListeners;
  private NotifySocket notifySocket;
  private AppControl appControl;
  private ControlServer control;

  public Supervisor(Config config, Os os, InstantSource clock) {
    this.config = config;
    this.os = os;
    this.clock = clock;
    this.lastGood = config.app();
  }

  public Config config() {
    return config;
  }

  /**
   * Binds the listeners and the notify socket, then starts the first generation. A first
   * generation that fails is retried with backoff; the supervisor stays up so a fixed version can
   * be deployed.
   *
   * @throws StartException when a listener or socket cannot be set up; nothing is left open
   */
  public void start() {
    var recovered = recover();
    if (listeners == null) {
      listeners = ListenerSet.bind(os, config);
    }
    try {
      var notifyPath = runtimeDir().resolve(config.control().socket().getFileName() + ".notify");
      notifySocket = os.openNotifySocket(notifyPath);
    } catch (NativeException e) {
      listeners.close();
      throw new StartException("cannot open the notify socket next to " + config.control().socket() + ": " + e.getMessage());
    }
    try {
      appControl = AppControl.start(os, runtimeDir().resolve(config.control().socket().getFileName() + ".app"), this::liveGeneration);
    } catch (StartException e) {
      notifySocket.close();
      listeners.close();
      throw e;
    }
    try {
      // Up before the first generation: systemd's READY=1 promises that `baton status` works.
      control = ControlServer.start(this, os);
    } catch (StartException e) {
      appControl.close();
      notifySocket.close();
      listeners.close();
      throw e;
    }
    Thread.ofPlatform().daemon().name("notify").start(this::receiveNotifications);
    for (var b : listeners.all()) {
      LOG.info("listener '{}' {} {} ({})", b.config().name(), recovered.isEmpty() ? "bound to" : "taken back at", b.address(), b.fd());
    }
    lock.lock();
    try {
      journalLocked();
    } finally {
      lock.unlock();
    }
    started = true;
    if (recovered.isPresent()) {
      LOG.info("recovered: {}", recovered.get());
      notifySystemd("READY=1\nSTATUS=recovered; generation " + active.map(g -> g.number).orElse(0) + " active\nMAINPID=" + os.pid());
      if (active.isPresent()) {
        return;
      }
    }
    try {
      deploy(DeployRequest.FROM_CONFIG, event -> {}, "start");
    } catch (DeployException e) {
      LOG.error("first generation failed: {}", e.getMessage());
      lock.lock();
      try {
        lastCrash = e.getMessage();
        scheduleRestartLocked();
      } finally {
        lock.unlock();
      }
    }
  }

  private StateJournal journal() {
    return new StateJournal(runtimeDir().resolve(config.control().socket().getFileName() + ".state"));
  }

  /**
   * Takes the service back after this supervisor was killed, or re-executed by an upgrade: the
   * generations kept serving on the listeners they hold, so the listeners and the read ends of
   * their output pipes are taken back from them (pidfd_getfd), and they are held again through new
   * pidfds. Returns what was recovered; empty when there was nothing to recover.
   *
   * @throws StartException when the state cannot be recovered safely; nothing is changed then
   */
  private Optional<String> recover() {
    var journal = journal();
    var state = journal.read();
    if (state.isEmpty()) {
      return Optional.empty();
    }
    var saved = state.get();
    if (saved.supervisorPid() != os.pid() && os.startTime(saved.supervisorPid()).isPresent()
        && isSupervisor(saved.supervisorPid())) {
      throw new StartException("another supervisor (pid " + saved.supervisorPid() + ") runs this service, per "
          + journal.path() + "; stop it first, or use its control socket");
    }
    var live = saved.generations().stream()
        .filter(g -> !g.state().equals("exited") && !g.state().equals("failed"))
        .filter(g -> g.startTime() != 0 && os.startTime(g.pid()).equals(OptionalLong.of(g.startTime())))
        .toList();
    if (live.isEmpty()) {
      LOG.info("the state journal names no generation that still runs; starting afresh");
      journal.delete();
      return Optional.empty();
    }
    var expected = config.listeners().stream().map(l -> l.name() + "=" + l.address()).toList();
    var recorded = saved.listeners().stream().map(l -> l.name() + "=" + l.address()).toList();
    if (!expected.equals(recorded)) {
      throw new StartException("cannot recover: generation(s) " + live.stream().map(g -> "pid " + g.pid()).toList()
          + " still run and hold listeners " + recorded + ", but " + config.file() + " now says " + expected
          + "; restore the config, or stop those processes and start again");
    }
    var donor = live.stream().filter(g -> g.state().equals("active")).findFirst()
        .or(() -> live.stream().filter(g -> g.state().equals("parked") || g.state().equals("draining")).findFirst());
    if (donor.isEmpty()) {
      // Only generations that were still starting: their deploy's caller is gone. End them.
      live.forEach(g -> os.signalGroup(g.pid(), Signal.KILL));
      journal.delete();
      return Optional.empty();
    }
    var fds = new ArrayList<Fd>();
    for (var l : saved.listeners()) {
      var fd = os.takeFd(donor.get().pid(), l.socket(), /* forReading= */ false);
      if (fd.isEmpty()) {
        fds.forEach(os::close);
        throw new StartException("cannot recover: pid " + donor.get().pid() + " no longer holds listener '" + l.name()
            + "' (" + l.socket() + "), or baton may not inspect it (it needs the same uid, or CAP_SYS_PTRACE)"
            + "; stop the service's processes and start again");
      }
      fds.add(fd.get());
    }
    listeners = ListenerSet.adopt(os, config, fds);
    var summary = new ArrayList<String>();
    lock.lock();
    try {
      nextNumber = saved.nextNumber();
      for (var g : live) {
        var app = new Config.App(g.command(), g.env(), Path.of(g.workdir()));
        var stdout = os.takeFd(g.pid(), g.outputPipes().get(0), /* forReading= */ true);
        var stderr = os.takeFd(g.pid(), g.outputPipes().get(1), /* forReading= */ true);
        if (stdout.isEmpty() || stderr.isEmpty()) {
          // The app closed the read ends it was given, so its output pipes broke when we died.
          LOG.warn("pid {} holds no read end of its output pipes any more; its output is lost from here on", g.pid());
        }
        var process = os.adopt(g.pid(), stdout, stderr);
        var probe = g.probeAddress().map(a -> {
          int colon = a.lastIndexOf(':');
          return new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(a.substring(colon + 1)));
        });
        var generation = new Generation(g.number(), app, g.started(), process, probe, g.startTime());
        generation.promotedAt = g.promoted();
        generation.readiness = "recovered after a supervisor restart";
        generation.state = switch (g.state()) {
          case "active" -> GenerationState.ACTIVE;
          case "parked" -> GenerationState.PARKED;
          case "draining" -> GenerationState.DRAINING;
          default -> GenerationState.STARTING;
        };
        generations.add(generation);
        GenerationOutput.start(generation, g.pendingOutput(), LogFile.ofThisProcess());
        generation.process.exit().whenComplete((status, error) -> onExit(generation, status));
        switch (generation.state) {
          case ACTIVE -> {
            active = Optional.of(generation);
            promotions.add(generation);
            lastGood = app;
          }
          case PARKED -> parked.addLast(generation);
          case DRAINING -> timer.schedule(() -> kill(generation), config.drain().timeout().toMillis(), TimeUnit.MILLISECONDS);
          default -> kill(generation);
        }
        summary.add(generation + " " + generation.state.label());
      }
    } finally {
      lock.unlock();
    }
    return Optional.of(String.join(", ", summary));
  }

  private static boolean isSupervisor(int pid) {
    try {
      return Files.readString(Path.of("/proc", Integer.toString(pid), "cmdline")).contains("dev.baton.cli.Main");
    } catch (IOException e) {
      return false;
    }
  }

  private void journalLocked() {
    journalLocked(Map.of());
  }

  /** {@code carried}: per generation, the partial lines its output readers hold (an upgrade's). */
  private void journalLocked(Map<Integer, List<String>> carried) {
    if (listeners == null) {
      return;
    }
    if (journalListeners == null) {
      journalListeners = listeners.all().stream().map(b ->
          new StateJournal.ListenerEntry(b.config().name(), b.config().address().toString(), os.link(b.fd()))).toList();
    }
    var gens = generations.stream().filter(g -> g.state.isLive()).map(g -> new StateJournal.GenerationEntry(
        g.number, g.pid(), g.startTime, g.state.label(), g.app.command(), g.app.env(), g.app.workdir().toString(),
        g.process.outputPipes(), carried.getOrDefault(g.number, List.of()), g.probeAddress.map(a -> a.getAddress().getHostAddress() + ":" + a.getPort()),
        g.started, g.promotedAt)).toList();
    try {
      journal().write(new StateJournal.State(os.pid(), nextNumber, journalListeners, gens));
    } catch (UncheckedIOException e) {
      LOG.warn("{}: a supervisor restart could not recover this state", e.getMessage());
    }
  }

  /**
   * Replaces this supervisor's program with the baton build now on disk, in the same process: its
   * pid (systemd's MainPID), its children and their listeners stay. The new image recovers from the
   * state journal exactly as after a crash, except that its generations are still its children.
   * Returns only by throwing.
   */
  public void upgrade(Runnable beforeExec) {
    if (!deploySlot.tryAcquire()) {
      throw new DeployException(busyMessage().replace("retry", "upgrade"));
    }
    List<String> argv;
    try {
      var raw = Files.readString(Path.of("/proc/self/cmdline"));
      argv = List.of(raw.split("\u0000"));
    } catch (IOException e) {
      deploySlot.release();
      throw new DeployException("cannot read this supervisor's command line: " + e.getMessage());
    }
    lock.lock();
    try {
      if (stopping) {
        throw new DeployException("the supervisor is stopping; it takes no upgrade");
      }
      // Readers stop between two reads; what they hold of an unfinished line goes in the journal.
      journalLocked(GenerationOutput.freeze());
      LOG.info("upgrading: re-executing {} as pid {}", argv.getFirst(), os.pid());
      beforeExec.run();
      System.out.flush();
      System.err.flush();
      var env = new HashMap<>(System.getenv());
      env.put("BATON_UPGRADED_FROM", Integer.toString(os.pid()));
      os.exec(argv, env);
    } catch (NativeException e) {
      GenerationOutput.thaw();
      throw new DeployException("upgrade failed, this supervisor keeps running: " + e.getMessage());
    } finally {
      lock.unlock();
      deploySlot.release();
    }
  }

  private Optional<Generation> liveGeneration(int pid) {
    lock.lock();
    try {
      return generations.stream().filter(g -> g.pid() == pid && g.state.isLive()).findFirst();
    } finally {
      lock.unlock();
    }
  }

  private Path runtimeDir() {
    return config.control().socket().toAbsolutePath().getParent();
  }

  /**
   * Starts a new generation and promotes it once it is ready; the old active generation then
   * drains. Returns once the new generation is active, with the drain of the old one, if any.
   *
   * @throws DeployException when the new generation did not become ready; the active one is
   *     untouched and keeps serving
   */
  public Deployed deploy(DeployRequest request, Consumer<DeployEvent> progress) {
    return deploy(request, progress, "deploy");
  }

  /** A promotion that happened, and what became of the generation it replaced: parked or drained. */
  public record Deployed(int generation, int pid, Optional<CompletableFuture<DeployEvent>> retired) {}

  private Deployed deploy(DeployRequest request, Consumer<DeployEvent> progress, String why) {
    if (!deploySlot.tryAcquire()) {
      throw new DeployException(busyMessage());
    }
    try {
      Config.App app;
      lock.lock();
      try {
        if (stopping) {
          throw new DeployException("the supervisor is stopping; it takes no more deploys");
        }
        var base = why.equals("restart") ? lastGood : config.app();
        var env = new HashMap<>(base.env());
        env.putAll(request.env());
        app = new Config.App(request.command().orElse(base.command()), env, base.workdir());
      } finally {
        lock.unlock();
      }
      return deployHoldingSlot(app, progress, why);
    } finally {
      deploySlot.release();
    }
  }

  private String busyMessage() {
    lock.lock();
    try {
      return deploying
          .map(g -> "a deploy is already in progress (generation " + g.number + ", started "
              + Duration.between(g.started, clock.instant()).toMillis() + " ms ago); wait for it to finish, then retry")
          .orElse("a deploy is already in progress; wait for it to finish, then retry");
    } finally {
      lock.unlock();
    }
  }

  private Deployed deployHoldingSlot(Config.App app, Consumer<DeployEvent> progress, String why) {
    var t0 = clock.instant();
    var generation = spawn(app, progress, t0, why);
    String readiness;
    try {
      readiness = awaitReady(generation, t0.plus(config.readiness().timeout()));
      lock.lock();
      try {
        generation.readyAt = Optional.of(clock.instant());
        generation.readiness = readiness;
        if (generation.state == GenerationState.STARTING) {
          generation.state = GenerationState.READY;
        }
      } finally {
        lock.unlock();
      }
      progress.accept(new DeployEvent("ready", generation.number, generation.pid(), since(t0), readiness));
      if (config.warmup().isPresent()) {
        var result = WarmUp.run(generation.probeAddress.orElseThrow(), config.warmup().get());
        progress.accept(new DeployEvent("warmed", generation.number, generation.pid(), since(t0), result.toString()));
      }
      // Resume before promotion: a generation that cannot accept must never become active.
      generation.session().ifPresent(s -> s.resume(SESSION_TIMEOUT));
    } catch (DeployException e) {
      fail(generation, e.getMessage());
      progress.accept(new DeployEvent("failed", generation.number, generation.pid(), since(t0), e.getMessage()));
      throw e;
    }
    Optional<Generation> old;
    lock.lock();
    try {
      if (stopping || !generation.state.isLive()) {
        var reason = stopping ? "the supervisor is stopping; " + generation + " was not promoted"
            : generation + " " + generation.exitStatus.map(ExitStatus::toString).orElse("exited") + " before promotion";
        generation.state = GenerationState.FAILED;
        generation.reason = reason;
        kill(generation);
        throw new DeployException(reason);
      }
      old = active;
      promoteLocked(generation, why, why.equals("rollback") ? "nothing was parked: started the previous command again" : "");
      lastGood = app;
      restartAt = Optional.empty();
    } finally {
      lock.unlock();
    }
    var promoted = new DeployEvent("promoted", generation.number, generation.pid(), since(t0),
        old.map(o -> "replaces generation " + o.number).orElse("first active generation"));
    LOG.info("generation {} (pid {}) promoted {} ms after spawn; {}; ready by {}",
        generation.number, generation.pid(), promoted.elapsed().toMillis(), promoted.detail(), readiness);
    progress.accept(promoted);
    notifySystemd("READY=1\nSTATUS=generation " + generation.number + " active\nMAINPID=" + os.pid());
    var retired = old.map(o -> retire(o, t0));
    config.bake().ifPresent(bake -> Thread.ofPlatform().daemon().name("bake-" + generation.number).start(() -> bake(generation, bake)));
    return new Deployed(generation.number, generation.pid(), retired);
  }

  /** Makes {@code generation} the active one and records it. */
  private void promoteLocked(Generation generation, String kind, String reason) {
    var previous = active;
    generation.state = GenerationState.ACTIVE;
    generation.promotedAt = Optional.of(clock.instant());
    active = Optional.of(generation);
    parked.remove(generation);
    if (deploying.equals(Optional.of(generation))) {
      deploying = Optional.empty();
    }
    promotions.add(generation);
    journalLocked();
    history.add(new Status.HistoryEntry(clock.instant(), kind, generation.number, previous.map(g -> g.number), reason));
    while (history.size() > HISTORY) {
      history.removeFirst();
    }
  }

  /**
   * Takes a generation out of service after a promotion: parked when it can be paused and parking
   * is on, so a rollback is instant; drained otherwise. Completes with what happened.
   */
  private CompletableFuture<DeployEvent> retire(Generation old, Instant t0) {
    var session = old.session();
    if (session.isPresent() && config.park().max() > 0) {
      try {
        session.get().pause(SESSION_TIMEOUT);
        List<Generation> evicted = new ArrayList<>();
        lock.lock();
        try {
          if (old.state == GenerationState.ACTIVE || old.state == GenerationState.READY) {
            old.state = GenerationState.PARKED;
            old.parkedAt = Optional.of(clock.instant());
            if (active.equals(Optional.of(old))) {
              active = Optional.empty();
            }
            parked.addLast(old);
            journalLocked();
            while (parked.size() > config.park().max()) {
              evicted.add(parked.removeFirst());
            }
          }
        } finally {
          lock.unlock();
        }
        evicted.forEach(this::drain);
        timer.schedule(() -> expire(old), config.park().ttl().toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("{} parked for rollback", old);
        return CompletableFuture.completedFuture(
            new DeployEvent("parked", old.number, old.pid(), since(t0), "generation " + old.number + " parked: alive, warm, not accepting"));
      } catch (DeployException e) {
        LOG.warn("could not park {}: {}; draining it instead", old, e.getMessage());
      }
    }
    return drain(old).thenApply(status ->
        new DeployEvent("drained", old.number, old.pid(), since(t0), "generation " + old.number + " " + status));
  }

  private void expire(Generation generation) {
    lock.lock();
    try {
      if (generation.state != GenerationState.PARKED) {
        return;
      }
      parked.remove(generation);
    } finally {
      lock.unlock();
    }
    LOG.info("{} parked for {}; draining it", generation, config.park().ttl());
    drain(generation);
  }

  /**
   * Makes the previous generation active again. A parked one is resumed, which takes milliseconds;
   * with none parked, the previous generation's command is started again through the full gate.
   * The generation rolled back from is paused and drained. Rollbacks wait for each other, and for a
   * deploy in progress.
   *
   * @throws DeployException when there is nothing to roll back to, or the rollback failed
   */
  public Deployed rollback(Consumer<DeployEvent> progress, String reason) {
    try {
      if (!deploySlot.tryAcquire(2, TimeUnit.MINUTES)) {
        throw new DeployException(busyMessage());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeployException("interrupted while waiting for a deploy in progress");
    }
    try {
      return rollbackHoldingSlot(progress, reason);
    } finally {
      deploySlot.release();
    }
  }

  private Deployed rollbackHoldingSlot(Consumer<DeployEvent> progress, String reason) {
    var t0 = clock.instant();
    Optional<Generation> current;
    Optional<Generation> target;
    Optional<Generation> previous;
    lock.lock();
    try {
      if (stopping) {
        throw new DeployException("the supervisor is stopping; it takes no rollbacks");
      }
      current = active;
      target = Optional.ofNullable(parked.peekLast());
      previous = promotions.reversed().stream()
          .filter(g -> current.isEmpty() || g != current.get())
          .findFirst();
    } finally {
      lock.unlock();
    }
    if (target.isEmpty()) {
      if (previous.isEmpty()) {
        throw new DeployException("nothing to roll back to: "
            + current.map(g -> "generation " + g.number + " is the only one this supervisor has run").orElse("no generation has been active yet"));
      }
      LOG.info("rollback: nothing parked; starting generation {}'s command again ({})", previous.get().number, reason);
      var deployed = deployHoldingSlot(previous.get().app, progress, "rollback");
      return deployed;
    }
    var resumed = target.get();
    try {
      awaitSession(resumed).resume(SESSION_TIMEOUT);
    } catch (DeployException e) {
      lock.lock();
      try {
        parked.remove(resumed);
      } finally {
        lock.unlock();
      }
      drain(resumed);
      throw new DeployException("rollback to " + resumed + " failed: " + e.getMessage() + "; " + current.map(g -> g + " is still active").orElse(""));
    }
    lock.lock();
    try {
      promoteLocked(resumed, "rollback", reason);
    } finally {
      lock.unlock();
    }
    var event = new DeployEvent("resumed", resumed.number, resumed.pid(), since(t0),
        "generation " + resumed.number + " accepts again" + current.map(g -> "; replaces generation " + g.number).orElse(""));
    LOG.info("rollback to {} in {} ms: {}", resumed, event.elapsed().toNanos() / 1e6, reason);
    progress.accept(event);
    notifySystemd("STATUS=generation " + resumed.number + " active (rolled back)");
    var retired = current.map(bad -> {
      bad.session().ifPresent(s -> {
        try {
          s.pause(SESSION_TIMEOUT);
        } catch (DeployException e) {
          LOG.warn("{}; draining it anyway", e.getMessage());
        }
      });
      lock.lock();
      try {
        bad.reason = "rolled back: " + reason;
      } finally {
        lock.unlock();
      }
      return drain(bad).thenApply(status ->
          new DeployEvent("drained", bad.number, bad.pid(), since(t0), "generation " + bad.number + " " + status));
    });
    return new Deployed(resumed.number, resumed.pid(), retired);
  }

  /**
   * A parked generation's BATON_CONTROL session. It had one when it was parked, but right after a
   * supervisor restart or upgrade the app may not have reconnected yet (baton-app retries every
   * 150 ms), so wait for it a while. Counted in sleeps, not by the clock, which tests may stop.
   */
  private static AppSession awaitSession(Generation generation) {
    for (int i = 0; i < SESSION_TIMEOUT.toMillis() / 20 && generation.session().isEmpty()
        && !generation.process.exit().isDone(); i++) {
      sleep(Duration.ofMillis(20));
    }
    return generation.session().orElseThrow(() -> new DeployException(generation
        + " has not reconnected to BATON_CONTROL within " + SESSION_TIMEOUT.toMillis() + " ms, so it cannot be resumed"));
  }

  /** Keeps probing a freshly promoted generation; rolls it back on its own when it turns bad. */
  private void bake(Generation generation, Config.Bake bake) {
    var end = clock.instant().plus(bake.duration());
    int failures = 0;
    while (clock.instant().isBefore(end)) {
      sleep(bake.interval());
      lock.lock();
      try {
        if (active.isEmpty() || active.get() != generation) {
          return;
        }
      } finally {
        lock.unlock();
      }
      var exit = generation.process.exit();
      int code = exit.isDone() ? -1 : HttpProbe.get(generation.probeAddress.orElseThrow(), config.readiness().http().orElseThrow(), bake.interval());
      failures = code >= 200 && code < 300 ? 0 : failures + 1;
      if (exit.isDone() || failures >= bake.failures()) {
        var why = exit.isDone()
            ? "bake failed: " + generation + " " + exit.join()
            : "bake failed: GET " + config.readiness().http().get() + " on " + generation + " answered "
                + (code < 0 ? "nothing" : Integer.toString(code)) + " " + failures + " time(s) in a row";
        LOG.error("{}; rolling back on its own", why);
        try {
          rollback(e -> {}, why);
        } catch (DeployException e) {
          LOG.error("automatic rollback failed: {}", e.getMessage());
        }
        return;
      }
    }
    LOG.info("{} baked for {} without a failed probe", generation, bake.duration());
  }

  private Generation spawn(Config.App app, Consumer<DeployEvent> progress, Instant t0, String why) {
    int number;
    lock.lock();
    try {
      number = nextNumber++;
    } finally {
      lock.unlock();
    }
    var env = environment(app, number);
    var argv = resolveCommand(app, env);
    var listenFds = new ArrayList<Fd>();
    var names = new ArrayList<String>();
    Optional<Fd> stdin = Optional.empty();
    for (var b : listeners.all()) {
      if (b.config().pass() == Config.Pass.FD0) {
        stdin = Optional.of(b.fd());
      } else {
        listenFds.add(b.fd());
        names.add(b.config().name());
      }
    }
    Optional<Fd> probeFd = Optional.empty();
    Optional<InetSocketAddress> probeAddress = Optional.empty();
    if (config.readiness().http().isPresent()) {
      var fd = os.listen(new ListenAddress.Tcp(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), false), 64);
      probeFd = Optional.of(fd);
      probeAddress = Optional.of(os.localAddress(fd));
      listenFds.add(fd);
      names.add("baton-probe");
    }
    if (!listenFds.isEmpty()) {
      env.put("LISTEN_FDS", Integer.toString(listenFds.size()));
      env.put("LISTEN_FDNAMES", String.join(":", names));
      // LISTEN_PID must be the app's own pid, which is known only after the fork. The shim sets it
      // and execs the app in the same process; argv reaches the app word for word, never parsed.
      var shim = new ArrayList<>(List.of("/bin/sh", "-c", "export LISTEN_PID=$$; exec \"$0\" \"$@\""));
      shim.addAll(argv);
      argv = shim;
    }
    Generation generation;
    // Spawned and registered under the lock: an app can send READY=1 before posix_spawn returns,
    // and the notify thread must find its generation when it takes the lock.
    lock.lock();
    try {
      var spec = new SpawnSpec(argv, env, app.workdir(), stdin, listenFds);
      var process = os.spawn(spec);
      generation = new Generation(number, app, clock.instant(), process, probeAddress,
          os.startTime(process.pid()).orElse(0));
      generations.add(generation);
      deploying = Optional.of(generation);
      trimHistoryLocked();
      journalLocked();
    } catch (NativeException e) {
      throw new DeployException("generation " + number + " could not start: " + e.getMessage()
          + "; check [app] command and workdir (" + app.workdir() + ")");
    } finally {
      lock.unlock();
      // The generation holds its own copy. Without ours, a probe to a dead generation is refused
      // at once instead of waiting in a queue nobody will ever accept from.
      probeFd.ifPresent(os::close);
    }
    GenerationOutput.start(generation);
    generation.process.exit().whenComplete((status, error) -> onExit(generation, status));
    LOG.info("generation {} spawned as pid {} ({}): {}", number, generation.pid(), why, String.join(" ", app.command()));
    progress.accept(new DeployEvent("spawned", number, generation.pid(), since(t0), String.join(" ", app.command())));
    return generation;
  }

  private Map<String, String> environment(Config.App app, int number) {
    var env = new HashMap<String, String>();
    System.getenv().forEach((k, v) -> {
      if (!k.startsWith("LISTEN_") && !k.equals("NOTIFY_SOCKET") && !k.startsWith("BATON_")) {
        env.put(k, v);
      }
    });
    env.putAll(app.env());
    env.put("NOTIFY_SOCKET", notifySocket.path().toString());
    env.put("BATON_GENERATION", Integer.toString(number));
    // A generation that speaks BATON_CONTROL starts paused: it takes no public traffic before it
    // has passed readiness, probe and warm-up, and the supervisor resumes it at promotion.
    env.put("BATON_CONTROL", appControl.path().toString());
    env.put("BATON_START", "paused");
    if (Path.of(app.command().getFirst()).getFileName().toString().equals("java")) {
      // baton-app adopts fds 3.. through the JDK's own inherited-channel code, which needs this.
      var opens = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";
      env.merge("JDK_JAVA_OPTIONS", opens, (a, b) -> a.contains(b) ? a : a + " " + b);
    }
    return env;
  }

  /** argv with argv[0] resolved on the generation's PATH, so a typo fails here with a clear reason. */
  private static List<String> resolveCommand(Config.App app, Map<String, String> env) {
    var argv = new ArrayList<>(app.command());
    var program = argv.getFirst();
    if (program.contains("/")) {
      var path = app.workdir().resolve(program);
      if (!Files.isExecutable(path)) {
        throw new DeployException("command not found: '" + program + "' is not an executable file (from "
            + app.workdir() + "); fix [app] command or deploy -- COMMAND");
      }
      return argv;
    }
    var searchPath = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (var dir : searchPath.split(":")) {
      var candidate = Path.of(dir.isEmpty() ? "." : dir, program);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        argv.set(0, candidate.toString());
        return argv;
      }
    }
    throw new DeployException("command not found: '" + program + "' is not on PATH (" + searchPath
        + "); install it, use an absolute path, or fix [app] command");
  }

  /** Waits for the readiness gate; returns how the generation proved ready. */
  private String awaitReady(Generation generation, Instant deadline) {
    var readiness = config.readiness();
    var exit = generation.process.exit();
    boolean probed = readiness.http().isEmpty();
    var waitingFor = new ArrayList<String>();
    if (readiness.notifyReady()) {
      waitingFor.add("READY=1 on NOTIFY_SOCKET");
    }
    readiness.http().ifPresent(path -> waitingFor.add("a 2xx from GET " + path + " on its probe listener"));
    boolean byDelay = waitingFor.isEmpty();
    if (byDelay) {
      waitingFor.add("staying alive for " + readiness.alive().toMillis() + " ms");
    }
    int lastStatus = -1;
    while (true) {
      if (exit.isDone()) {
        throw new DeployException(generation + " " + exit.join() + " before it was ready" + lastOutput(generation));
      }
      var now = clock.instant();
      boolean notified = !readiness.notifyReady() || generation.notifiedReady.isDone();
      if (notified && !probed) {
        var remaining = Duration.between(now, deadline);
        int code = HttpProbe.get(generation.probeAddress.orElseThrow(), readiness.http().orElseThrow(),
            remaining.compareTo(Duration.ofSeconds(2)) < 0 ? remaining : Duration.ofSeconds(2));
        // The error names the last answer there was: a probe cut short by the deadline has none.
        if (code > 0) {
          lastStatus = code;
        }
        probed = code >= 200 && code < 300;
      }
      boolean aged = !byDelay || !now.isBefore(generation.started.plus(readiness.alive()));
      if (notified && probed && aged) {
        if (exit.isDone()) {
          continue;
        }
        return String.join(" and ", waitingFor).replace("staying alive", "stayed alive")
            + " after " + Duration.between(generation.started, clock.instant()).toMillis() + " ms";
      }
      if (!clock.instant().isBefore(deadline)) {
        var probeNote = lastStatus > 0 ? " (last probe answered " + lastStatus + ")" : "";
        throw new DeployException(generation + " was not ready within " + config.readiness().timeout().toMillis()
            + " ms, waiting for " + String.join(" and ", waitingFor) + probeNote
            + "; it was killed and the active generation keeps serving. Raise [readiness] timeout if it is just slow"
            + lastOutput(generation));
      }
      sleep(Duration.ofMillis(byDelay ? 20 : 10));
    }
  }

  private static String lastOutput(Generation generation) {
    var lines = generation.lastLines();
    return lines.isEmpty() ? "" : "; its last output: " + String.join(" / ", lines);
  }

  private void fail(Generation generation, String reason) {
    lock.lock();
    try {
      if (generation.state.isLive()) {
        generation.state = GenerationState.FAILED;
      }
      generation.reason = reason;
      if (deploying.equals(Optional.of(generation))) {
        deploying = Optional.empty();
      }
    } finally {
      lock.unlock();
    }
    LOG.warn("deploy failed: {}", reason);
    kill(generation);
    generation.process.exit().orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null).join();
  }

  private void kill(Generation generation) {
    generation.process.signal(Signal.KILL);
    os.signalGroup(generation.pid(), Signal.KILL);
  }

  /**
   * Sends the drain signal, waits the grace period, then SIGKILLs the generation's whole process
   * group. The listeners stay open throughout: they are the supervisor's, not the generation's.
   */
  CompletableFuture<ExitStatus> drain(Generation generation) {
    lock.lock();
    try {
      if (!generation.state.isLive() || generation.state == GenerationState.DRAINING) {
        return generation.process.exit();
      }
      generation.state = GenerationState.DRAINING;
      parked.remove(generation);
      journalLocked();
      if (active.equals(Optional.of(generation))) {
        active = Optional.empty();
      }
    } finally {
      lock.unlock();
    }
    var drainConfig = config.drain();
    LOG.info("draining {} with SIG{} (grace {} ms)", generation, drainConfig.signal(), drainConfig.timeout().toMillis());
    generation.process.signal(drainConfig.signal());
    var timeout = timer.schedule(() -> {
      if (!generation.process.exit().isDone()) {
        LOG.warn("{} did not drain within {} ms; sending SIGKILL to its process group", generation, drainConfig.timeout().toMillis());
        kill(generation);
      }
    }, drainConfig.timeout().toMillis(), TimeUnit.MILLISECONDS);
    return generation.process.exit().whenComplete((s, e) -> timeout.cancel(false));
  }

  private void onExit(Generation generation, ExitStatus status) {
    // Whatever the app left behind in its process group goes with it: no orphans.
    os.signalGroup(generation.pid(), Signal.KILL);
    lock.lock();
    try {
      generation.exitStatus = Optional.ofNullable(status);
      generation.exitedAt = Optional.of(clock.instant());
      switch (generation.state) {
        case DRAINING -> generation.state = GenerationState.EXITED;
        case ACTIVE -> {
          generation.state = GenerationState.FAILED;
          generation.reason = "crashed: " + status;
          active = Optional.empty();
          var uptime = Duration.between(generation.promotedAt.orElse(generation.started), clock.instant());
          if (uptime.compareTo(STABLE) >= 0) {
            crashes = 0;
          }
          lastCrash = "generation " + generation.number + " " + status;
          LOG.error("active {} {}; restarting it{}", generation, status, lastOutput(generation));
          scheduleRestartLocked();
        }
        case PARKED -> {
          generation.state = GenerationState.FAILED;
          generation.reason = "exited while parked: " + status;
          parked.remove(generation);
        }
        case STARTING, READY -> generation.state = GenerationState.FAILED;
        case EXITED, FAILED -> {}
      }
      journalLocked();
    } finally {
      lock.unlock();
    }
    LOG.info("{} {}", generation, status);
  }

  private void scheduleRestartLocked() {
    if (stopping) {
      return;
    }
    var initial = config.restart().initial().toMillis();
    long delay = Math.min(config.restart().max().toMillis(), initial << Math.min(crashes, 20));
    crashes++;
    restartAt = Optional.of(clock.instant().plusMillis(delay));
    timer.schedule(this::restart, delay, TimeUnit.MILLISECONDS);
  }

  private void restart() {
    lock.lock();
    try {
      if (stopping || active.isPresent()) {
        restartAt = Optional.empty();
        return;
      }
    } finally {
      lock.unlock();
    }
    try {
      deploy(DeployRequest.FROM_CONFIG, event -> {}, "restart");
    } catch (DeployException e) {
      LOG.error("restart failed: {}", e.getMessage());
      lock.lock();
      try {
        lastCrash = e.getMessage();
        if (active.isEmpty()) {
          scheduleRestartLocked();
        }
      } finally {
        lock.unlock();
      }
    }
  }

  private void receiveNotifications() {
    for (var message = notifySocket.receive(); message.isPresent(); message = notifySocket.receive()) {
      onNotify(message.get());
    }
  }

  private void onNotify(NotifyMessage message) {
    Optional<Generation> sender;
    lock.lock();
    try {
      // systemd's NotifyAccess=main: only a generation's main process speaks for it.
      sender = generations.stream().filter(g -> g.pid() == message.pid() && g.state.isLive()).findFirst();
      sender.ifPresent(g -> {
        var fields = message.fields();
        if (fields.containsKey("STATUS")) {
          g.notifyStatus = fields.get("STATUS");
        }
      });
    } finally {
      lock.unlock();
    }
    if (sender.isEmpty()) {
      LOG.debug("ignored a notify message from pid {}, which is no generation's main process", message.pid());
      return;
    }
    if ("1".equals(message.fields().get("READY"))) {
      sender.get().notifiedReady.complete(null);
    }
  }

  private void notifySystemd(String message) {
    var address = System.getenv("NOTIFY_SOCKET");
    if (address != null && !address.isEmpty()) {
      try {
        os.sendNotify(address, message);
      } catch (NativeException e) {
        LOG.warn("could not notify systemd at {}: {}", address, e.getMessage());
      }
    }
  }

  public Status status() {
    lock.lock();
    try {
      var gens = generations.stream().map(g -> new Status.GenerationStatus(
          g.number, g.state.label(), g.pid(), g.app.command(), g.started, g.readyAt, g.promotedAt, g.exitedAt,
          g.notifyStatus.isEmpty() ? g.readiness : g.readiness + "; STATUS=" + g.notifyStatus,
          g.exitStatus.map(ExitStatus::toString), g.reason)).toList();
      var ls = listeners.all().stream().map(b -> new Status.ListenerStatus(
          b.config().name(), b.address(),
          b.config().pass() == Config.Pass.FD0 ? "fd0" : "listen-fds", b.fd().value())).toList();
      Optional<String> crashLoop = active.isEmpty() && crashes > 0
          ? Optional.of(crashes + " failed start(s) in a row; "
              + restartAt.map(t -> "next restart in " + Math.max(0, Duration.between(clock.instant(), t).toMillis()) + " ms").orElse("restarting")
              + "; last: " + lastCrash)
          : Optional.empty();
      return new Status(os.pid(), active.map(g -> g.number), deploying.isPresent(), crashLoop,
          parked.stream().map(g -> g.number).toList(), gens, ls, List.copyOf(history));
    } finally {
      lock.unlock();
    }
  }

  private void trimHistoryLocked() {
    while (generations.size() > HISTORY) {
      var oldest = generations.stream().filter(g -> !g.state.isLive()).findFirst();
      if (oldest.isEmpty()) {
        return;
      }
      generations.remove(oldest.get());
    }
  }

  /**
   * Drains every generation, then closes the listeners. Generations still starting are killed: they
   * never served. Completes when nothing of the service is left running.
   */
  public CompletableFuture<Void> stop() {
    List<Generation> live;
    lock.lock();
    try {
      if (stopping) {
        return stopped;
      }
      stopping = true;
      live = generations.stream().filter(g -> g.state.isLive()).toList();
    } finally {
      lock.unlock();
    }
    notifySystemd("STOPPING=1");
    LOG.info("stopping: draining {} generation(s)", live.size());
    var exits = live.stream().map(g -> {
      if (g.state == GenerationState.STARTING || g.state == GenerationState.READY) {
        kill(g);
        return g.process.exit();
      }
      return drain(g);
    }).toArray(CompletableFuture[]::new);
    CompletableFuture.allOf(exits).whenComplete((v, e) -> {
      // The deploy that was starting a generation may still be between spawn and promotion.
      deploySlot.acquireUninterruptibly();
      deploySlot.release();
      closeSockets();
      if (started) {
        // A supervisor that never started must leave the journal to the one that will recover.
        journal().delete();
      }
      timer.shutdownNow();
      LOG.info("stopped");
      stopped.complete(null);
    });
    return stopped;
  }

  public CompletableFuture<Void> stopped() {
    return stopped;
  }

  /** After a stop: lets the control connection that asked for it get its reply before exit. */
  public void awaitControlReplies(Duration timeout) {
    if (control != null) {
      control.awaitIdle(timeout);
    }
  }

  private void closeSockets() {
    if (notifySocket != null) {
      notifySocket.close();
    }
    if (appControl != null) {
      appControl.close();
    }
    if (control != null) {
      control.close();
    }
    if (listeners != null) {
      listeners.close();
    }
  }

  @Override
  public void close() {
    stop().join();
  }

  private Duration since(Instant t0) {
    return Duration.between(t0, clock.instant());
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeployException("interrupted while waiting for readiness");
    }
  }
}
