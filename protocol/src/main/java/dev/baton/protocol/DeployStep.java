package dev.baton.protocol;

/** One step of a deploy or a rollback, in the order they usually happen. */
public enum DeployStep {
  /** The new generation's process was started. */
  SPAWNED,
  /** It passed its readiness gate. */
  READY,
  /** Its warm-up requests were sent. */
  WARMED,
  /** It became the active generation: new connections go to it. */
  PROMOTED,
  /** A parked generation accepts again: a rollback's promotion. */
  RESUMED,
  /** The generation replaced stays alive, not accepting, for an instant rollback. */
  PARKED,
  /** The generation replaced finished its in-flight work and exited. */
  DRAINED,
  /** The deploy stopped here; the detail says why, and the active generation keeps serving. */
  FAILED
}
