package dev.baton.os;

/** How a process ended: an exit code, or the number of the signal that killed it. */
public record ExitStatus(boolean signalled, int value) {

  public static ExitStatus exited(int code) {
    return new ExitStatus(false, code);
  }

  public static ExitStatus killed(int signal) {
    return new ExitStatus(true, signal);
  }

  public boolean success() {
    return !signalled && value == 0;
  }

  @Override
  public String toString() {
    return signalled ? "killed by " + Signal.name(value) : "exited with status " + value;
  }
}
