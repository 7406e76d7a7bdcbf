package dev.baton.os;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A spawned or adopted process held through its pidfd. Nothing waits for it: the event loop watches
 * {@link #exitFd()}, which turns readable when the process exits, and then calls {@link #reap()}.
 *
 * <p>The pidfd stays a {@link SharedFd} because {@link #signal} may run on another thread while the
 * loop reaps: the number goes back to the kernel only once no signal() is using it, so a signal can
 * never be sent through a number that by then names some other file. The pidfd itself cannot reach
 * a recycled pid: once its process is reaped, pidfd_send_signal fails with ESRCH.
 */
final class LinuxChildProcess implements ChildProcess {
  private final int pid;
  private final int pidfdNumber;
  private final SharedFd pidfd;
  private final PipeInput stdout;
  private final PipeInput stderr;
  private final List<String> outputPipes;
  private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();

  LinuxChildProcess(
      int pid, int pidfd, PipeInput stdout, PipeInput stderr, List<String> outputPipes) {
    this.pid = pid;
    this.pidfdNumber = pidfd;
    this.pidfd = new SharedFd(pidfd);
    this.stdout = stdout;
    this.stderr = stderr;
    this.outputPipes = List.copyOf(outputPipes);
  }

  @Override
  public int pid() {
    return pid;
  }

  @Override
  public boolean signal(Signal signal) {
    int fd = pidfd.acquire();
    if (fd < 0) {
      return false; // already reaped
    }
    try {
      return Libc.pidfdSendSignal(
          fd,
          signal.number(),
          "pidfd_send_signal(pid " + pid + ", " + Signal.name(signal.number()) + ")");
    } finally {
      pidfd.release();
    }
  }

  @Override
  public CompletableFuture<ExitStatus> exit() {
    return exit;
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException once {@link #reap()} has returned a status: the number may
   *     already belong to another file, and watching or unwatching it would touch that one
   */
  @Override
  public Fd exitFd() {
    if (pidfd.isClosed()) {
      throw new IllegalStateException(
          "pid " + pid + " has been reaped and its pidfd closed; unwatch exitFd() before reap()");
    }
    return new Fd(pidfdNumber);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Synchronized, though only the loop should call it: two reapers must not both close the
   * pidfd.
   */
  @Override
  public synchronized Optional<ExitStatus> reap() {
    if (exit.isDone()) {
      return Optional.of(exit.join());
    }
    int fd = pidfd.acquire();
    if (fd < 0) {
      throw new IllegalStateException("pidfd of pid " + pid + " was closed without a status");
    }
    ExitStatus status;
    try (var arena = Arena.ofConfined()) {
      var siginfo = arena.allocate(LibcEvents.SIGINFO_SIZE, 8); // zeroed: si_pid 0 until it exits
      if (LibcEvents.waitidNow(fd, siginfo, "waitid(pid " + pid + ", WEXITED|WNOHANG)")) {
        if (siginfo.get(JAVA_INT, LibcEvents.SIGINFO_PID) == 0) {
          return Optional.empty();
        }
        int code = siginfo.get(JAVA_INT, LibcEvents.SIGINFO_CODE);
        int value = siginfo.get(JAVA_INT, LibcEvents.SIGINFO_STATUS);
        // CLD_EXITED: si_status is the exit code. CLD_KILLED, CLD_DUMPED: the signal's number.
        status =
            code == LibcEvents.CLD_EXITED ? ExitStatus.exited(value) : ExitStatus.killed(value);
      } else {
        // ECHILD: adopted after a supervisor restart, so not our child, and its status goes to its
        // parent. Its pidfd still turns readable once it has exited.
        int ready = LibcEvents.poll(fd, LibcEvents.POLLIN, 0, "poll(pidfd of pid " + pid + ")");
        if (ready == 0) {
          return Optional.empty();
        }
        status = ExitStatus.unknown();
      }
    } finally {
      pidfd.release();
    }
    // Reaped: the pid may now be recycled. Closing before exit() completes is what makes signal()
    // answer false to anyone who has seen the exit.
    pidfd.close();
    exit.complete(status);
    return Optional.of(status);
  }

  @Override
  public PipeInput stdout() {
    return stdout;
  }

  @Override
  public PipeInput stderr() {
    return stderr;
  }

  @Override
  public List<String> outputPipes() {
    return outputPipes;
  }

  @Override
  public String toString() {
    return "pid " + pid;
  }
}
