package dev.baton.supervisor;

import dev.baton.os.ExitStatus;
import dev.baton.os.Signal;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a generation out of service: parks it when parking is on and it can be kept from new
 * connections (paused over BATON_CONTROL, or steered away from), so that a rollback is instant, and
 * drains it otherwise. Parked generations over {@code [park] max} or older than {@code [park] ttl}
 * are drained. A drain is the signal, the grace period, then SIGKILL to the whole process group;
 * the listeners stay open throughout, since they are the supervisor's.
 *
 * <p>At most {@code [drain] max_draining} generations drain at their own pace: when one more begins
 * to, the oldest beyond that many are hurried, once each: told to finish now (DRAIN-NOW over
 * BATON_CONTROL; an app without a session is not signalled twice), then SIGKILLed {@code [drain]
 * hurry} later, or at the end of their grace if that comes first. A grace long enough for hour-long
 * connections thus never leaves a generation alive per deploy.
 *
 * <p>With steered listeners the promotion has already sent new connections elsewhere, so the old
 * generation is left alone until its own accept queue is empty and {@code [drain] settle} has
 * passed: whatever it took before the switch is answered before it hears of a drain, and an app
 * that drains carelessly has nothing left to drop.
 */
final class Retire {
  private static final Logger LOG = LoggerFactory.getLogger(Retire.class);

  /**
   * {@code settled} completes once the generation is parked or its drain has begun (the next deploy
   * may start then); {@code done} once it is parked or has exited.
   */
  record Retirement(CompletableFuture<Void> settled, CompletableFuture<DeployEvent> done) {}

  /** How often a settling generation's accept queue is looked at. */
  private static final Duration QUEUE_CHECK = Duration.ofMillis(5);

  private final Supervisor supervisor;

  Retire(Supervisor supervisor) {
    this.supervisor = supervisor;
  }

  Retirement retire(Generation old, Instant t0) {
    return afterSettling(old, () -> retireNow(old, t0));
  }

  /**
   * {@code then}, once nothing more waits in {@code old}'s own sockets and {@code [drain] settle}
   * has passed; at once for a generation with no socket of its own (shared listeners).
   */
  Retirement afterSettling(Generation old, Supplier<Retirement> then) {
    if (old.own.isEmpty()) {
      return then.get();
    }
    var loop = supervisor.loop();
    var drain = supervisor.config().drain();
    var deadline = loop.now().plus(drain.timeout());
    var settled = new CompletableFuture<Void>();
    Runnable[] check = new Runnable[1];
    check[0] =
        () -> {
          if (old.hasExited()) {
            settled.complete(null);
          } else if (supervisor.listeners().own().queued(old) == 0
              || !loop.now().isBefore(deadline)) {
            loop.after(drain.settle(), () -> settled.complete(null));
          } else {
            loop.after(QUEUE_CHECK, check[0]);
          }
        };
    check[0].run();
    var next = settled.thenApply(v -> then.get());
    return new Retirement(
        next.thenCompose(Retirement::settled), next.thenCompose(Retirement::done));
  }

  private Retirement retireNow(Generation old, Instant t0) {
    var session = old.session();
    if (supervisor.config().park().max() == 0 || (session.isEmpty() && old.own.isEmpty())) {
      return drained(old, t0);
    }
    if (session.isEmpty()) {
      // Steered away from: it gets no new connection, so it is parked as it is.
      var event = park(old, t0);
      return new Retirement(
          CompletableFuture.completedFuture(null), CompletableFuture.completedFuture(event));
    }
    var parked = new CompletableFuture<DeployEvent>();
    var settled =
        session
            .get()
            .pause()
            .<Void>handle(
                (v, error) -> {
                  if (error != null) {
                    LOG.warn(
                        "could not park {}: {}; draining it instead",
                        old,
                        DeployException.reason(error));
                    drained(old, t0).done().whenComplete((event, e) -> parked.complete(event));
                    return null;
                  }
                  old.paused = true;
                  parked.complete(park(old, t0));
                  return null;
                });
    return new Retirement(settled, parked);
  }

  private DeployEvent park(Generation old, Instant t0) {
    if (!old.is(GenerationState.ACTIVE) || supervisor.generations().isActive(old)) {
      // It exited, or was rolled back to, while it was being paused or left to settle.
      return event(
          DeployStep.PARKED, old, t0, old + " was not parked: it is " + old.state().label());
    }
    var evicted = supervisor.generations().park(old, supervisor.config().park().max());
    supervisor.journal();
    evicted.forEach(this::drain);
    expireAfterTtl(old);
    LOG.info("{} parked for rollback", old);
    return event(
        DeployStep.PARKED,
        old,
        t0,
        "generation " + old.number + " parked: alive, warm, not accepting");
  }

  /** Drains {@code generation} and reports it as a deploy step once it has exited. */
  Retirement drained(Generation generation, Instant t0) {
    var exit = drain(generation);
    return new Retirement(
        CompletableFuture.completedFuture(null),
        exit.thenApply(
            status ->
                event(
                    DeployStep.DRAINED,
                    generation,
                    t0,
                    "generation " + generation.number + " " + status)));
  }

  /** Sends the drain signal, then SIGKILL after the grace period. Completes when it has exited. */
  CompletableFuture<ExitStatus> drain(Generation generation) {
    if (!generation.isLive() || generation.is(GenerationState.DRAINING)) {
      return generation.process.exit();
    }
    generation.moveTo(GenerationState.DRAINING);
    supervisor.generations().retire(generation);
    supervisor.journal();
    var drain = supervisor.config().drain();
    LOG.info(
        "draining {} with SIG{} (grace {} ms)",
        generation,
        drain.signal(),
        drain.timeout().toMillis());
    generation.process.signal(drain.signal());
    killAfter(generation, drain.timeout());
    hurryBeyondMax();
    return generation.process.exit();
  }

  /**
   * SIGKILLs the generation's process group if it is still there after {@code grace}, the end of
   * its drain.
   */
  void killAfter(Generation generation, Duration grace) {
    generation.killAt = Optional.of(supervisor.loop().now().plus(grace));
    killIn(generation, grace, "did not drain within " + grace.toMillis() + " ms");
  }

  private void killIn(Generation generation, Duration delay, String why) {
    var timer =
        supervisor
            .loop()
            .after(
                delay,
                () -> {
                  if (!generation.hasExited()) {
                    LOG.warn("{} {}; sending SIGKILL to its process group", generation, why);
                    kill(generation);
                  }
                });
    generation.process.exit().whenComplete((s, e) -> timer.cancel());
  }

  /**
   * Hurries the oldest draining generations beyond {@code [drain] max_draining}, each once: called
   * whenever one begins to drain, and once a restarted supervisor has taken its draining ones back.
   */
  void hurryBeyondMax() {
    hurryBeyond(supervisor.config().drain().maxDraining(), "");
  }

  /**
   * Called as a deploy spawns its generation. Its promotion will start one more drain (the active
   * generation's, or that of a parked one it displaces), so the oldest draining generations beyond
   * {@code max_draining - 1} are hurried now, while the new one starts, and have exited by the time
   * it is promoted. Hurried only at the promotion, they would overlap it for as long as their exit
   * takes: max_draining + 2 generations serving at once. A deploy that then fails has ended a drain
   * early, which a bound on drains accepts.
   */
  void hurryAhead() {
    hurryBeyond(
        Math.max(0, supervisor.config().drain().maxDraining() - 1), " and a deploy under way");
  }

  private void hurryBeyond(int keep, String ahead) {
    var draining = supervisor.generations().draining();
    int max = supervisor.config().drain().maxDraining();
    for (int i = 0; i < draining.size() - keep; i++) {
      hurry(draining.get(i), draining.size(), max, ahead);
    }
  }

  /**
   * Tells {@code generation} to finish now and SIGKILLs it {@code [drain] hurry} from now, unless
   * its grace ends before: the earlier of the two deadlines holds, and whichever timer fires first
   * kills it.
   */
  private void hurry(Generation generation, int draining, int max, String ahead) {
    if (generation.hurried || generation.hasExited()) {
      return;
    }
    generation.hurried = true;
    var loop = supervisor.loop();
    var drain = supervisor.config().drain();
    var now = loop.now();
    var hurryEnd = now.plus(drain.hurry());
    var graceEnd = generation.killAt.orElse(hurryEnd);
    Duration left;
    if (graceEnd.isAfter(hurryEnd)) {
      left = drain.hurry();
      generation.killAt = Optional.of(hurryEnd);
      killIn(generation, left, "was hurried and did not exit within " + left.toMillis() + " ms");
    } else {
      left = graceEnd.isAfter(now) ? Duration.between(now, graceEnd) : Duration.ZERO;
    }
    supervisor.deployRecord().metrics().hurried();
    // Counted off the loop: /proc of a process with many connections takes a while to read.
    int pid = generation.pid();
    loop.offLoop(() -> supervisor.os().tcpConnections(pid))
        .whenComplete(
            (connections, error) ->
                LOG.warn(
                    "hurrying generation {} (pid {}): {} draining{}, max_draining {};"
                        + " it still holds {} connections; SIGKILL in {} ms",
                    generation.number,
                    pid,
                    draining,
                    ahead,
                    max,
                    connections == null || connections.isEmpty()
                        ? "an unknown number of"
                        : connections.getAsInt(),
                    left.toMillis()));
    // The drain signal is not sent twice: it is not idempotent everywhere (uWSGI's suspend toggles,
    // so a second SIGTERM would make it accept again). An app without a session has the earlier
    // SIGKILL alone.
    generation.session().ifPresent(AppSession::drainNow);
  }

  /**
   * SIGKILL to the generation and its process group; once it is reaped its group is gone already.
   */
  void kill(Generation generation) {
    if (generation.process.signal(Signal.KILL) || !generation.hasExited()) {
      supervisor.os().signalGroup(generation.pid(), Signal.KILL);
    }
  }

  /** Drains {@code generation} at {@code [park] ttl} from now, unless it is resumed before. */
  void expireAfterTtl(Generation generation) {
    generation.expiry.ifPresent(Loop.Timer::cancel);
    generation.expiry =
        Optional.of(
            supervisor.loop().after(supervisor.config().park().ttl(), () -> expire(generation)));
  }

  /** A parked generation kept for {@code [park] ttl} is drained. */
  void expire(Generation generation) {
    if (generation.is(GenerationState.PARKED)) {
      LOG.info("{} parked for {}; draining it", generation, supervisor.config().park().ttl());
      drain(generation);
    }
  }

  private DeployEvent event(DeployStep step, Generation generation, Instant t0, String detail) {
    return new DeployEvent(
        step,
        generation.number,
        generation.pid(),
        Duration.between(t0, supervisor.loop().now()),
        detail);
  }
}
