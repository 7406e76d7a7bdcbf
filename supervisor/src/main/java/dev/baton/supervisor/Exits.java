package dev.baton.supervisor;

import dev.baton.os.ExitStatus;
import dev.baton.os.Poller;
import dev.baton.os.Signal;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A generation's exit, as the loop sees it on its pidfd: what it means for the generation's state,
 * a crash restart, a failed bake, the listeners it held, and a stop waiting for the last one.
 */
final class Exits {
  private static final Logger LOG = LoggerFactory.getLogger(Exits.class);

  private Exits() {}

  static void watch(Supervisor supervisor, Generation generation) {
    var loop = supervisor.loop();
    var exitFd = generation.process.exitFd();
    loop.watch(
        exitFd,
        Poller.READABLE,
        events -> {
          // Unwatched before reap() closes the pidfd; watched again if it has not exited after all.
          loop.unwatch(exitFd);
          // Whatever the app left behind in its process group goes with it: no orphans. Before the
          // reap, while the unreaped leader still holds its pid and so the group's id.
          supervisor.os().signalGroup(generation.pid(), Signal.KILL);
          generation
              .process
              .reap()
              .ifPresentOrElse(
                  status -> exited(supervisor, generation, status),
                  () -> watch(supervisor, generation));
        });
  }

  private static void exited(Supervisor supervisor, Generation generation, ExitStatus status) {
    var generations = supervisor.generations();
    generation.exitStatus = Optional.of(status);
    generation.exitedAt = Optional.of(supervisor.loop().now());
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
    supervisor.listeners().own().exited(generation, crashed);
    supervisor.listeners().closeUnheld(generations.live());
    if (crashed && generation.baking) {
      Bake.failed(supervisor, "bake failed: " + generation + " " + status);
    } else if (crashed) {
      supervisor.crashRestart().crashed(generation, status);
    }
    supervisor.journal();
    LOG.info("{} {}", generation, status);
    supervisor.finishStopIfDone();
  }
}
