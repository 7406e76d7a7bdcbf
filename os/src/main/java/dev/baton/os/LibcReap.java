package dev.baton.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.invoke.MethodHandle;

/**
 * Reaping a child by its pid, for the one case where there is no pidfd to reap it through: a child
 * spawned while pidfd_open then failed (EMFILE, ENFILE, ENOMEM). Killed and never waited for, it
 * would stay a zombie for as long as the supervisor lives.
 */
final class LibcReap {
  private LibcReap() {}

  private static final int P_PID = 1;
  private static final int WEXITED = 4;
  private static final MethodHandle WAITID =
      Native.errnoCall("waitid", JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);

  /**
   * SIGKILL to {@code pid}, our child, then a wait for it on a thread of its own: a SIGKILLed
   * process is usually gone at once, but one in an uninterruptible sleep is not, and the caller is
   * the supervisor's loop, which must not wait on it. Until it is reaped its pid cannot be reused,
   * so the kill can reach no other process.
   */
  static void killAndReap(int pid) {
    Libc.kill(pid, Signal.KILL.number(), "kill(pid " + pid + ", SIGKILL)");
    Thread.ofPlatform().daemon().name("baton-reap-" + pid).start(() -> waitFor(pid));
  }

  private static void waitFor(int pid) {
    try (var arena = Arena.ofConfined()) {
      var siginfo = arena.allocate(LibcEvents.SIGINFO_SIZE, 8);
      String what = "waitid(P_PID " + pid + ", WEXITED)";
      while (Native.checkUnless(
              Libc.EINTR, what, e -> (int) WAITID.invokeExact(e, P_PID, pid, siginfo, WEXITED))
          == -1) {
        // Interrupted by a signal: wait again.
      }
    }
  }
}
