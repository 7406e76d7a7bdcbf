package dev.baton.haproxy;

/**
 * A rollout that did not finish. The message says why, what was rolled back, and in what state the
 * servers were left: every one ready, unless HAProxy itself could not be reached, in which case it
 * says what to run.
 */
public final class RolloutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final boolean started;

  RolloutException(String message, boolean started) {
    super(message);
    this.started = started;
  }

  /**
   * False when the rollout stopped before it changed anything: a check before the first drain
   * failed.
   */
  public boolean started() {
    return started;
  }
}
