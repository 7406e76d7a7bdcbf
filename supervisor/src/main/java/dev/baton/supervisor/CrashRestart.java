package dev.baton.supervisor;

import dev.baton.os.ExitStatus;
import dev.baton.protocol.DeployKind;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restarts the service when its active generation exits, with the last command that was promoted,
 * after a backoff that doubles from {@code [restart] backoff} to {@code max_backoff}. A generation
 * that stayed active for a while before it crashed starts the backoff over.
 */
final class CrashRestart {
  private static final Logger LOG = LoggerFactory.getLogger(CrashRestart.class);

  private final Supervisor supervisor;
  private int crashes;
  private Optional<Instant> restartAt = Optional.empty();
  private String lastCrash = "";

  CrashRestart(Supervisor supervisor) {
    this.supervisor = supervisor;
  }

  void crashed(Generation generation, ExitStatus status) {
    if (Generations.wasStable(generation, supervisor.loop().now())) {
      crashes = 0;
    }
    lastCrash = "generation " + generation.number + " " + status;
    LOG.error("active {} {}; restarting it{}", generation, status, generation.lastOutput());
    schedule();
  }

  /** The first generation; one that fails is tried again with the backoff. */
  CompletableFuture<Void> firstDeploy() {
    return supervisor
        .deploy(supervisor.config().app(), DeployKind.START, event -> {})
        .handle(
            (d, e) -> {
              if (e != null) {
                LOG.error("first generation failed: {}", DeployException.reason(e));
                failed(DeployException.reason(e));
              }
              return null;
            });
  }

  /** The first generation, or a restart, failed: try again later. */
  void failed(String why) {
    lastCrash = why;
    schedule();
  }

  void promoted() {
    restartAt = Optional.empty();
  }

  /** "3 failed start(s) in a row; …" while nothing is active after a crash. */
  Optional<String> crashLoop() {
    if (supervisor.generations().active().isPresent() || crashes == 0) {
      return Optional.empty();
    }
    var next =
        restartAt
            .map(
                t ->
                    "next restart in "
                        + Math.max(0, Duration.between(supervisor.loop().now(), t).toMillis())
                        + " ms")
            .orElse("restarting");
    return Optional.of(crashes + " failed start(s) in a row; " + next + "; last: " + lastCrash);
  }

  private void schedule() {
    if (supervisor.isStopping()) {
      return;
    }
    long delay =
        Math.min(
            supervisor.config().restart().max().toMillis(),
            supervisor.config().restart().initial().toMillis() << Math.min(crashes, 20));
    crashes++;
    restartAt = Optional.of(supervisor.loop().now().plusMillis(delay));
    supervisor.loop().after(Duration.ofMillis(delay), this::restart);
  }

  private void restart() {
    if (supervisor.isStopping() || supervisor.generations().active().isPresent()) {
      restartAt = Optional.empty();
      return;
    }
    if (supervisor.isBusy()) {
      failed(supervisor.busyMessage());
      return;
    }
    CompletableFuture<Supervisor.Deployed> restarted;
    try {
      restarted = supervisor.deploy(supervisor.lastGood(), DeployKind.RESTART, event -> {});
    } catch (RuntimeException | StackOverflowError e) {
      // Thrown rather than failed: the loop would log it, and no restart would ever be tried again.
      restarted = CompletableFuture.failedFuture(e);
    }
    restarted.exceptionally(
        e -> {
          var why = DeployException.reason(e);
          LOG.error("restart failed: {}", why);
          if (supervisor.generations().active().isEmpty()) {
            failed(why);
          }
          return null;
        });
  }
}
