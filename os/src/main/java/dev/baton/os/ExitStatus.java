package dev.baton.os;

/** How a process ended: an exit code, or the number of the signal that killed it. */
public record ExitStatus(boolean signalled, int value) {

  public static ExitStatus exited(int code) {
    return new ExitStatus(false, code);
  }

  public static ExitStatus killed(int signal) {
    return new ExitStatus(true, signal);
  }

  /**
   * A process adopted from an earlier supervisor exited; its status went to its parent, not to us.
   */
  public static ExitStatus unknown() {
    return new ExitStatus(false, -1);
  }

  boolean success() {
    return !signalled && value == 0;
  }

  @Override
  public String toString() {
    if (!signalled && value < 0) {
      return "exited (status unknown: it was adopted after a supervisor restart)";
    }
    return signalled ? "killed by " + Signal.name(value) : "exited with status " + value;
  }
}
