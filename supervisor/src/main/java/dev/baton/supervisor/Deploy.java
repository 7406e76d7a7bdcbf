package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.DeployStep;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One deploy, from spawn to promotion: spawn, the readiness gate, warm-up, resume (baton-app
 * generations start paused), promote, then the old generation is parked or drained. Any failure
 * before promotion kills the new generation's process group and leaves the active generation
 * exactly as it was.
 */
final class Deploy {
  private static final Logger LOG = LoggerFactory.getLogger(Deploy.class);

  private final Supervisor supervisor;
  private final Config.App app;
  private final DeployKind kind;
  private final String reason;
  private final Consumer<DeployEvent> progress;
  private final Instant t0;

  private Deploy(
      Supervisor supervisor,
      Config.App app,
      DeployKind kind,
      String reason,
      Consumer<DeployEvent> progress) {
    this.supervisor = supervisor;
    this.app = app;
    this.kind = kind;
    this.reason = reason;
    this.progress = progress;
    this.t0 = supervisor.loop().now();
  }

  /**
   * Completes once the new generation is active and the old one parked or draining; {@code reason}
   * goes in the history with the promotion.
   */
  static CompletableFuture<Supervisor.Deployed> run(
      Supervisor supervisor,
      Config.App app,
      DeployKind kind,
      String reason,
      Consumer<DeployEvent> progress) {
    return new Deploy(supervisor, app, kind, reason, progress).run();
  }

  private CompletableFuture<Supervisor.Deployed> run() {
    var loop = supervisor.loop();
    Generation generation;
    try {
      generation =
          supervisor
              .spawner()
              .spawn(
                  app,
                  supervisor.config().readiness(),
                  supervisor.config().drain(),
                  supervisor.generations().takeNumber(),
                  t0);
    } catch (DeployException e) {
      return CompletableFuture.failedFuture(e);
    }
    supervisor.adopt(generation, java.util.List.of());
    supervisor.deploying(generation);
    supervisor.retire().hurryAhead();
    if (supervisor.generations().active().isEmpty()) {
      // Nothing serves: the connections that come meanwhile wait in the new generation's queue.
      supervisor.listeners().own().steerTo(generation);
    }
    LOG.info(
        "generation {} spawned as pid {} ({}): {}",
        generation.number,
        generation.pid(),
        kind.name().toLowerCase(java.util.Locale.ROOT),
        String.join(" ", app.command()));
    emit(DeployStep.SPAWNED, generation, String.join(" ", app.command()));
    var config = supervisor.config();
    return ReadinessGate.await(loop, supervisor.probe, config.readiness(), generation)
        .thenCompose(
            how -> {
              generation.readyAt = Optional.of(loop.now());
              generation.readiness = how;
              generation.moveTo(GenerationState.READY);
              emit(DeployStep.READY, generation, how);
              if (config.warmup().isEmpty()) {
                return CompletableFuture.completedFuture(null);
              }
              var address = generation.probeAddress.orElseThrow();
              return loop.offLoop(() -> WarmUp.run(address, config.warmup().get()))
                  .thenAccept(result -> emit(DeployStep.WARMED, generation, result.toString()));
            })
        // Resume before promotion: a generation that cannot accept must never become active.
        .thenCompose(
            v ->
                generation
                    .session()
                    .map(AppSession::resume)
                    .orElse(CompletableFuture.completedFuture(null)))
        .thenCompose(v -> promote(generation))
        .handle(
            (deployed, error) -> {
              if (error == null) {
                return CompletableFuture.completedFuture(deployed);
              }
              if (supervisor.generations().isActive(generation)) {
                // Promoted already: what failed came after, and must not take the new version down.
                LOG.error("after promoting {}: {}", generation, DeployException.reason(error));
                return CompletableFuture.completedFuture(
                    new Supervisor.Deployed(generation.number, generation.pid(), Optional.empty()));
              }
              var why = DeployException.reason(error);
              emit(DeployStep.FAILED, generation, why);
              return fail(generation, why)
                  .<Supervisor.Deployed>thenCompose(
                      v -> CompletableFuture.failedFuture(new DeployException(why)));
            })
        .thenCompose(f -> f);
  }

  private CompletableFuture<Supervisor.Deployed> promote(Generation generation) {
    if (supervisor.isStopping() || !generation.isLive()) {
      throw new DeployException(
          supervisor.isStopping()
              ? "the supervisor is stopping; " + generation + " was not promoted"
              : generation
                  + " "
                  + generation.exitStatus.map(Object::toString).orElse("exited")
                  + " before promotion");
    }
    var old = supervisor.generations().active();
    supervisor.promoted(generation, kind, reason);
    var detail = old.map(o -> "replaces generation " + o.number).orElse("first active generation");
    var promoted = emit(DeployStep.PROMOTED, generation, detail);
    LOG.info(
        "generation {} (pid {}) promoted {} ms after spawn; {}; ready by {}",
        generation.number,
        generation.pid(),
        promoted.elapsed().toMillis(),
        detail,
        generation.readiness);
    var retired = old.map(o -> supervisor.retire().retire(o, t0));
    supervisor.config().bake().ifPresent(bake -> Bake.start(supervisor, generation, bake));
    var settled =
        retired.map(Retire.Retirement::settled).orElse(CompletableFuture.completedFuture(null));
    return settled.thenApply(
        v ->
            new Supervisor.Deployed(
                generation.number, generation.pid(), retired.map(Retire.Retirement::done)));
  }

  /** A deploy failed before promotion: the new generation is killed; completes once it is gone. */
  private CompletableFuture<Void> fail(Generation generation, String reason) {
    if (generation.isLive()) {
      generation.moveTo(GenerationState.FAILED);
    }
    generation.reason = reason;
    LOG.warn("deploy failed: {}", reason);
    supervisor.retire().kill(generation);
    supervisor.journal();
    var gone = new CompletableFuture<Void>();
    var timeout = supervisor.loop().after(Duration.ofSeconds(5), () -> gone.complete(null));
    generation
        .process
        .exit()
        .whenComplete(
            (s, e) -> {
              timeout.cancel();
              gone.complete(null);
            });
    return gone;
  }

  private DeployEvent emit(DeployStep step, Generation generation, String detail) {
    var event =
        new DeployEvent(
            step,
            generation.number,
            generation.pid(),
            Duration.between(t0, supervisor.loop().now()),
            detail);
    progress.accept(event);
    return event;
  }
}
