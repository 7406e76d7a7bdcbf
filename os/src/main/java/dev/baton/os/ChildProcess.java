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

  /** Completes once the process has exited and been reaped. */
  CompletableFuture<ExitStatus> exit();

  /** The read end of the process's stdout pipe; EOF once every holder of the write end is gone. */
  PipeInput stdout();

  PipeInput stderr();

  /** The stdout and stderr pipes as /proc names them, "pipe:[456]": their identity for recovery. */
  java.util.List<String> outputPipes();
}
