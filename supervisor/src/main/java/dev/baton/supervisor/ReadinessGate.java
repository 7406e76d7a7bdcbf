package dev.baton.supervisor;

import dev.baton.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The gate a new generation passes before promotion: READY=1 (on NOTIFY_SOCKET or BATON_CONTROL)
 * and/or a 2xx from its private probe listener, or with neither, staying alive for a while; all
 * before the deadline, and without exiting. Driven by the loop's events; the probe itself, a
 * blocking HTTP request, runs off the loop.
 */
final class ReadinessGate {
  /** Between two probes of a generation that answered, but not yet 2xx. */
  private static final Duration PROBE_PAUSE = Duration.ofMillis(10);

  private final Loop loop;
  private final HttpProbe.Get probe;
  private final Config.Readiness readiness;
  private final Generation generation;
  private final List<String> waitingFor = new ArrayList<>();
  private final CompletableFuture<String> result = new CompletableFuture<>();
  private final List<Loop.Timer> timers = new ArrayList<>();
  private boolean probed;
  private boolean probing;
  private boolean aged;
  private int lastStatus = -1;

  private ReadinessGate(
      Loop loop, HttpProbe.Get probe, Config.Readiness readiness, Generation generation) {
    this.loop = loop;
    this.probe = probe;
    this.readiness = readiness;
    this.generation = generation;
    probed = readiness.http().isEmpty();
    if (readiness.notifyReady()) {
      waitingFor.add("READY=1 on NOTIFY_SOCKET");
    }
    readiness
        .http()
        .ifPresent(path -> waitingFor.add("a 2xx from GET " + path + " on its probe listener"));
    aged = !waitingFor.isEmpty();
    if (waitingFor.isEmpty()) {
      waitingFor.add("staying alive for " + readiness.alive().toMillis() + " ms");
    }
  }

  /**
   * Completes with how the generation proved ready, or fails with a {@link DeployException} saying
   * why not.
   */
  static CompletableFuture<String> await(
      Loop loop, HttpProbe.Get probe, Config.Readiness readiness, Generation generation) {
    var gate = new ReadinessGate(loop, probe, readiness, generation);
    gate.begin();
    return gate.result;
  }

  private void begin() {
    timers.add(loop.after(readiness.timeout(), this::timedOut));
    if (!aged) {
      timers.add(
          loop.after(
              readiness.alive(),
              () -> {
                aged = true;
                check();
              }));
    }
    generation
        .process
        .exit()
        .thenAccept(
            status ->
                fail(generation + " " + status + " before it was ready" + generation.lastOutput()));
    if (readiness.notifyReady()) {
      generation.notifiedReady.thenRun(this::check);
    } else {
      check();
    }
  }

  private boolean notified() {
    return !readiness.notifyReady() || generation.notifiedReady.isDone();
  }

  private void check() {
    if (result.isDone() || generation.hasExited() || !notified()) {
      return;
    }
    if (!probed) {
      probe();
      return;
    }
    if (aged) {
      var how =
          String.join(" and ", waitingFor).replace("staying alive", "stayed alive")
              + " after "
              + Duration.between(generation.started, loop.now()).toMillis()
              + " ms";
      timers.forEach(Loop.Timer::cancel);
      result.complete(how);
    }
  }

  private void probe() {
    if (probing) {
      return;
    }
    probing = true;
    var remaining = Duration.between(loop.now(), generation.started.plus(readiness.timeout()));
    var limit = remaining.compareTo(Duration.ofSeconds(2)) < 0 ? remaining : Duration.ofSeconds(2);
    var address = generation.probeAddress.orElseThrow();
    var path = readiness.http().orElseThrow();
    loop.offLoop(() -> probe.get(address, path, limit))
        .thenAccept(
            code -> {
              probing = false;
              // The error names the last answer there was: a probe cut short by the deadline has
              // none.
              if (code > 0) {
                lastStatus = code;
              }
              probed = code >= 200 && code < 300;
              if (probed) {
                check();
              } else if (!result.isDone()) {
                timers.add(loop.after(PROBE_PAUSE, this::check));
              }
            });
  }

  private void timedOut() {
    var probeNote = lastStatus > 0 ? " (last probe answered " + lastStatus + ")" : "";
    fail(
        generation
            + " was not ready within "
            + readiness.timeout().toMillis()
            + " ms, waiting for "
            + String.join(" and ", waitingFor)
            + probeNote
            + "; it was killed and the active generation keeps serving. Raise [readiness] timeout if it is just slow"
            + generation.lastOutput());
  }

  private void fail(String why) {
    if (!result.isDone()) {
      timers.forEach(Loop.Timer::cancel);
      result.completeExceptionally(new DeployException(why));
    }
  }
}
