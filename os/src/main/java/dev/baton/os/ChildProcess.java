package dev.baton.os;

import java.util.concurrent.CompletableFuture;

/**
 * A process started by {@link Os#spawn}, held through a pidfd so a recycled pid can never be
 * signalled by mistake. Its stdout and stderr are pipes the caller must read to the end.
 */
public interface ChildProcess {

  int pid();

  /** Signals the process through its pidfd. Returns false when it has already exited. */
  boolean signal(Signal signal);

  /** Completes once {@link #reap()} has seen the process exit. */
  CompletableFuture<ExitStatus> exit();

  /**
   * The process's pidfd, for a {@link Poller}: it turns readable once the process has exited. Stop
   * watching it before {@link #reap()} returns a status, which closes it.
   */
  Fd exitFd();

  /**
   * Without blocking: the exit status once the process has exited (and, for our own child, reaps
   * it), or empty while it runs. After a status, {@link #exit()} is complete, the pidfd is closed
   * and {@link #signal} returns false: a reaped pid may be recycled. Repeated calls return the same
   * status.
   */
  java.util.Optional<ExitStatus> reap();

  /** The read end of the process's stdout pipe; EOF once every holder of the write end is gone. */
  PipeInput stdout();

  PipeInput stderr();

  /** The stdout and stderr pipes as /proc names them, "pipe:[456]": their identity for recovery. */
  java.util.List<String> outputPipes();
}
