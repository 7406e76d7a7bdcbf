package dev.baton.supervisor;

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
 * Makes the previous generation active again. A parked one is resumed, which takes one line over a
 * socket; with none parked, the previous generation's command is started again through the full
 * gate. The generation rolled back from is parked when parking is on and it speaks BATON_CONTROL or
 * is steered away from, exactly as a deploy parks the generation it replaces, so that a second
 * rollback flips back in one step too; otherwise it is paused and drained.
 */
final class Rollback {
  private static final Logger LOG = LoggerFactory.getLogger(Rollback.class);

  /** How often to look for a parked generation's BATON_CONTROL session while it reconnects. */
  private static final Duration RECONNECT_CHECK = Duration.ofMillis(20);

  private Rollback() {}

  /** Rolls back, and records how it ended in the deploy record. */
  static CompletableFuture<Supervisor.Deployed> run(
      Supervisor supervisor, String reason, Consumer<DeployEvent> progress) {
    return supervisor
        .deployRecord()
        .track(supervisor, DeployKind.ROLLBACK, reason, progress, p -> to(supervisor, reason, p));
  }

  private static CompletableFuture<Supervisor.Deployed> to(
      Supervisor supervisor, String reason, Consumer<DeployEvent> progress) {
    var generations = supervisor.generations();
    var current = generations.active();
    var target = generations.newestParked();
    if (target.isEmpty()) {
      var previous = generations.previous();
      if (previous.isEmpty()) {
        return CompletableFuture.failedFuture(
            new DeployException(
                "nothing to roll back to: "
                    + current
                        .map(
                            g ->
                                "generation "
                                    + g.number
                                    + " is the only one this supervisor has run")
                        .orElse("no generation has been active yet")));
      }
      LOG.info(
          "rollback: nothing parked; starting generation {}'s command again ({})",
          previous.get().number,
          reason);
      return Deploy.run(
          supervisor,
          previous.get().app,
          DeployKind.ROLLBACK,
          reason
              + " (nothing was parked: started generation "
              + previous.get().number
              + "'s command again)",
          progress);
    }
    var resumed = target.get();
    var t0 = supervisor.loop().now();
    return resume(supervisor, resumed, t0)
        .handle(
            (v, error) -> {
              if (error != null) {
                supervisor.retire().drain(resumed);
                throw new DeployException(
                    "rollback to "
                        + resumed
                        + " failed: "
                        + DeployException.reason(error)
                        + "; "
                        + current.map(g -> g + " is still active").orElse(""));
              }
              supervisor.promoted(resumed, DeployKind.ROLLBACK, reason);
              var event =
                  new DeployEvent(
                      DeployStep.RESUMED,
                      resumed.number,
                      resumed.pid(),
                      since(supervisor, t0),
                      "generation "
                          + resumed.number
                          + " accepts again"
                          + current.map(g -> "; replaces generation " + g.number).orElse(""));
              LOG.info(
                  "rollback to {} in {} ms: {}", resumed, event.elapsed().toNanos() / 1e6, reason);
              progress.accept(event);
              return current.map(bad -> leave(supervisor, bad, reason, t0));
            })
        // Answered once the generation rolled back from takes nothing new: parked, paused, or
        // draining.
        .thenCompose(
            left ->
                left.map(Retire.Retirement::settled)
                    .orElse(CompletableFuture.completedFuture(null))
                    .thenApply(
                        settled ->
                            new Supervisor.Deployed(
                                resumed.number, resumed.pid(), left.map(Retire.Retirement::done))));
  }

  /**
   * Lets {@code target} accept again: a RESUME on BATON_CONTROL when it was paused there. A steered
   * generation that was not paused needs nothing: the promotion's map update is the whole rollback.
   */
  private static CompletableFuture<Void> resume(
      Supervisor supervisor, Generation target, Instant t0) {
    if (!target.paused && !target.own.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return awaitSession(supervisor.loop(), target, t0.plus(AppSession.TIMEOUT))
        .thenCompose(AppSession::resume)
        .thenRun(() -> target.paused = false);
  }

  /**
   * The generation rolled back from: parked when it can be, else paused, so that it takes nothing
   * new, then drained. Parking it keeps the operator's next move as cheap as this one: a rollback
   * that turns out wrong is undone by another, in milliseconds, instead of a full deploy. A
   * generation whose bake failed is known bad, so it is drained: nothing should flip back to it.
   */
  private static Retire.Retirement leave(
      Supervisor supervisor, Generation bad, String reason, Instant t0) {
    bad.reason = "rolled back: " + reason;
    boolean parkable = bad.session().isPresent() || !bad.own.isEmpty();
    if (!bad.failedBake && parkable && supervisor.config().park().max() > 0) {
      return supervisor.retire().retire(bad, t0);
    }
    return supervisor.retire().afterSettling(bad, () -> pauseAndDrain(supervisor, bad, t0));
  }

  private static Retire.Retirement pauseAndDrain(
      Supervisor supervisor, Generation bad, Instant t0) {
    var paused =
        bad.session()
            .map(AppSession::pause)
            .orElse(CompletableFuture.completedFuture(null))
            .exceptionally(
                e -> {
                  LOG.warn("{}; draining it anyway", DeployException.reason(e));
                  return null;
                });
    var drained =
        paused
            .thenCompose(v -> supervisor.retire().drain(bad))
            .thenApply(
                status ->
                    new DeployEvent(
                        DeployStep.DRAINED,
                        bad.number,
                        bad.pid(),
                        since(supervisor, t0),
                        "generation " + bad.number + " " + status));
    return new Retire.Retirement(paused, drained);
  }

  /**
   * A parked generation's BATON_CONTROL session. It had one when it was parked, but right after a
   * supervisor restart or upgrade the app may not have reconnected yet (baton-app retries every 150
   * ms), so wait for it a while.
   */
  private static CompletableFuture<AppSession> awaitSession(
      Loop loop, Generation generation, Instant deadline) {
    var result = new CompletableFuture<AppSession>();
    Runnable[] check = new Runnable[1];
    check[0] =
        () -> {
          Optional<AppSession> session = generation.session();
          if (session.isPresent()) {
            result.complete(session.get());
          } else if (generation.hasExited() || !loop.now().isBefore(deadline)) {
            result.completeExceptionally(
                new DeployException(
                    generation
                        + " has not reconnected to BATON_CONTROL within "
                        + AppSession.TIMEOUT.toMillis()
                        + " ms, so it cannot be resumed"));
          } else {
            loop.after(RECONNECT_CHECK, check[0]);
          }
        };
    check[0].run();
    return result;
  }

  private static Duration since(Supervisor supervisor, Instant t0) {
    return Duration.between(t0, supervisor.loop().now());
  }
}
