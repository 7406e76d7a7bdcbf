package dev.baton.supervisor;

/** The life of a generation, in the order it usually goes. */
public enum GenerationState {
  /** Spawned; not yet ready. It may already accept on the shared listeners if the app does so early. */
  STARTING,
  /** Passed its readiness gate; about to be promoted. */
  READY,
  /** The generation that serves: the one a crash restarts and a deploy replaces. */
  ACTIVE,
  /** Alive and warm, not accepting: kept for an instant rollback. */
  PARKED,
  /** Sent the drain signal; finishing in-flight work before it exits. */
  DRAINING,
  /** Exited after a drain, as asked. */
  EXITED,
  /** Never became ready, or exited when it should have been serving. */
  FAILED;

  boolean isLive() {
    return this == STARTING || this == READY || this == ACTIVE || this == PARKED || this == DRAINING;
  }

  String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
