package dev.baton.protocol;

/** How a generation came to be promoted, as {@code baton status} lists it in the history. */
public enum DeployKind {
  /** The supervisor's first generation. */
  START,
  /** A deploy asked for over the control socket or the remote API. */
  DEPLOY,
  /** A new generation with the same command, after the active one crashed. */
  RESTART,
  /** Back to the previous generation: a parked one resumed, or its command started again. */
  ROLLBACK
}
