package dev.baton.bench;

import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One replacement of the running app by a new generation, timed from the moment bench asked for it.
 * Which steps there are depends on the scenario: a stop-start has no promotion, and its drain comes
 * before the new generation is spawned.
 *
 * @param generation the new generation's number
 * @param askedNanos when bench asked for it, in {@link System#nanoTime()}
 * @param switchNanos when traffic moved: the promotion, or the SIGTERM of the old generation
 * @param spawnedMs from asking to the new process existing
 * @param readyMs to the new generation being ready (its probe answered, or it said it listens)
 * @param promotedMs to the promotion (baton only)
 * @param drainedMs to the old generation having drained and exited
 * @param failure why the replacement did not happen; the old generation then keeps serving
 */
record Reload(
    int generation,
    long askedNanos,
    long switchNanos,
    OptionalDouble spawnedMs,
    OptionalDouble readyMs,
    OptionalDouble promotedMs,
    OptionalDouble drainedMs,
    Optional<String> failure) {

  boolean ok() {
    return failure.isEmpty();
  }

  /** From asking to the switch: for baton, command to promoted. */
  double switchMs() {
    return (switchNanos - askedNanos) / 1e6;
  }
}
