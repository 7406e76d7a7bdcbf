package dev.baton.os;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.util.concurrent.CompletableFuture;

/**
 * A spawned process held through its pidfd. One platform daemon thread per child blocks in
 * waitid(P_PIDFD) and completes {@link #exit()}; it has to be a platform thread because it blocks
 * in native code for the child's whole life.
 */
final class LinuxChildProcess implements ChildProcess {
  private final int pid;
  private final SharedFd pidfd;
  private final PipeInput stdout;
  private final PipeInput stderr;
  private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();

  private final java.util.List<String> outputPipes;

  LinuxChildProcess(int pid, int pidfd, PipeInput stdout, PipeInput stderr, java.util.List<String> outputPipes) {
    this.pid = pid;
    this.outputPipes = java.util.List.copyOf(outputPipes);
    this.pidfd = new SharedFd(pidfd);
    this.stdout = stdout;
    this.stderr = stderr;
    Thread.ofPlatform().daemon().name("baton-wait-" + pid).start(this::awaitExit);
  }

  private void awaitExit() {
    ExitStatus status;
    int fd = pidfd.acquire();
    try (var arena = Arena.ofConfined()) {
      var siginfo = arena.allocate(Libc.SIGINFO_SIZE, 8);
      Libc.waitid(Libc.P_PIDFD, fd, siginfo, Libc.WEXITED, "waitid(pid " + pid + ")");
      int code = siginfo.get(JAVA_INT, Libc.SIGINFO_CODE);
      int value = siginfo.get(JAVA_INT, Libc.SIGINFO_STATUS);
      // CLD_EXITED: si_status is the exit code. CLD_KILLED, CLD_DUMPED: the signal's number.
      status = code == Libc.CLD_EXITED ? ExitStatus.exited(value) : ExitStatus.killed(value);
    } catch (NativeException e) {
      if (e.errno() != Libc.ECHILD) {
        exit.completeExceptionally(e);
        return;
      }
      // Adopted after a supervisor crash: not our child, so its status goes to its new parent.
      // The pidfd still turns readable when it exits.
      Libc.awaitReadable(fd, "poll(pidfd of pid " + pid + ")");
      status = ExitStatus.unknown();
    } catch (RuntimeException e) {
      exit.completeExceptionally(e);
      return;
    } finally {
      pidfd.release();
      // Reaped: the pid may now be recycled, so the pidfd must not be used again. Closing it
      // before exit() completes is what makes signal() answer false from then on.
      pidfd.close();
    }
    exit.complete(status);
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

  @Override
  public PipeInput stdout() {
    return stdout;
  }

  @Override
  public PipeInput stderr() {
    return stderr;
  }

  @Override
  public java.util.List<String> outputPipes() {
    return outputPipes;
  }

  @Override
  public String toString() {
    return "pid " + pid;
  }

  @Override
  public Fd exitFd() {
    throw new UnsupportedOperationException("todo");
  }

  @Override
  public java.util.Optional<ExitStatus> reap() {
    throw new UnsupportedOperationException("todo");
  }
}
