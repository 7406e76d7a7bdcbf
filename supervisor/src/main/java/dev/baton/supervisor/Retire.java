package dev.baton.supervisor;

import dev.baton.os.ExitStatus;
import dev.baton.os.Signal;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployStep;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a generation out of service: parks it when it can be paused and parking is on, so that a
 * rollback is instant, and drains it otherwise. Parked generations over {@code [park] max} or older
 * than {@code [park] ttl} are drained. A drain is the signal, the grace period, then SIGKILL to the
 * whole process group; the listeners stay open throughout, since they are the supervisor's.
 */
final class Retire {
  private static final Logger LOG = LoggerFactory.getLogger(Retire.class);

  /**
   * {@code settled} completes once the generation is parked or its drain has begun (the next deploy
   * may start then); {@code done} once it is parked or has exited.
   */
  record Retirement(CompletableFuture<Void> settled, CompletableFuture<DeployEvent> done) {}

  private final Supervisor supervisor;

  Retire(Supervisor supervisor) {
    this.supervisor = supervisor;
  }

  Retirement retire(Generation old, Instant t0) {
    var loop = supervisor.loop();
    var session = old.session();
    if (session.isEmpty() || supervisor.config().park().max() == 0) {
      return drained(old, t0);
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
                  if (!old.is(GenerationState.ACTIVE) || supervisor.generations().isActive(old)) {
                    // It exited, or was rolled back to, while it was being paused.
                    parked.complete(
                        event(
                            DeployStep.PARKED,
                            old,
                            t0,
                            old + " was not parked: it is " + old.state().label()));
                    return null;
                  }
                  var evicted =
                      supervisor.generations().park(old, supervisor.config().park().max());
                  supervisor.journal();
                  evicted.forEach(this::drain);
                  expireAfterTtl(old);
                  LOG.info("{} parked for rollback", old);
                  parked.complete(
                      event(
                          DeployStep.PARKED,
                          old,
                          t0,
                          "generation " + old.number + " parked: alive, warm, not accepting"));
                  return null;
                });
    return new Retirement(settled, parked);
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
    return generation.process.exit();
  }

  /** SIGKILLs the generation's process group if it is still there after {@code grace}. */
  void killAfter(Generation generation, Duration grace) {
    var timer =
        supervisor
            .loop()
            .after(
                grace,
                () -> {
                  if (!generation.hasExited()) {
                    LOG.warn(
                        "{} did not drain within {} ms; sending SIGKILL to its process group",
                        generation,
                        grace.toMillis());
                    kill(generation);
                  }
                });
    generation.process.exit().whenComplete((s, e) -> timer.cancel());
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
