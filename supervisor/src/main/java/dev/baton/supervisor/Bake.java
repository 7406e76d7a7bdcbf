package dev.baton.supervisor;

import dev.baton.config.Config;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Keeps probing a freshly promoted generation; rolls it back on its own when it turns bad. */
final class Bake {
  private static final Logger LOG = LoggerFactory.getLogger(Bake.class);

  private final Supervisor supervisor;
  private final Generation generation;
  private final Config.Bake bake;
  private final Instant end;
  private int failures;

  private Bake(Supervisor supervisor, Generation generation, Config.Bake bake) {
    this.supervisor = supervisor;
    this.generation = generation;
    this.bake = bake;
    this.end = supervisor.loop().now().plus(bake.duration());
  }

  static void start(Supervisor supervisor, Generation generation, Config.Bake bake) {
    var b = new Bake(supervisor, generation, bake);
    generation.baking = true;
    supervisor.loop().after(bake.interval(), b::probe);
  }

  private void probe() {
    if (!supervisor.generations().isActive(generation)) {
      generation.baking = false;
      return;
    }
    var path = supervisor.config().readiness().http().orElseThrow();
    var address = generation.probeAddress.orElseThrow();
    supervisor
        .loop()
        .offLoop(() -> supervisor.probe.get(address, path, bake.interval()))
        .thenAccept(
            code -> {
              if (!supervisor.generations().isActive(generation)) {
                return;
              }
              boolean ok = code >= 200 && code < 300;
              supervisor.deployRecord().metrics().probed(ok);
              failures = ok ? 0 : failures + 1;
              if (failures >= bake.failures()) {
                generation.baking = false;
                generation.failedBake = true;
                failed(
                    supervisor,
                    "bake failed: GET "
                        + path
                        + " on "
                        + generation
                        + " answered "
                        + (code < 0 ? "nothing" : Integer.toString(code))
                        + " "
                        + failures
                        + " time(s) in a row");
              } else if (supervisor.loop().now().isBefore(end)) {
                supervisor.loop().after(bake.interval(), this::probe);
              } else {
                generation.baking = false;
                LOG.info("{} baked for {} without a failed probe", generation, bake.duration());
              }
            });
  }

  /** The baking generation failed a probe too often, or exited: back to the one before it. */
  static void failed(Supervisor supervisor, String why) {
    LOG.error("{}; rolling back on its own", why);
    supervisor
        .rollback(why, event -> {})
        .exceptionally(
            e -> {
              LOG.error("automatic rollback failed: {}", DeployException.reason(e));
              return null;
            });
  }
}
