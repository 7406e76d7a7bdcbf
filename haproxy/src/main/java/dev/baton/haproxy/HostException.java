package dev.baton.haproxy;

/**
 * A supervisor could not be reached, did not answer in time, or refused what a rollout asked. The
 * message names the target and says what to check.
 */
public final class HostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final boolean unreachable;

  HostException(String message, boolean unreachable) {
    super(message);
    this.unreachable = unreachable;
  }

  /** True when the supervisor never answered; false when it answered "no". */
  public boolean unreachable() {
    return unreachable;
  }
}
