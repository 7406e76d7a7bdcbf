package dev.baton.supervisor;

import dev.baton.os.ExitStatus;
import dev.baton.os.Fd;
import dev.baton.os.PipeInput;
import dev.baton.os.Poller;
import dev.baton.os.Signal;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The supervisor's hold on a {@link FakeProcess}, as {@code Os.spawn} or {@code Os.adopt} gives it:
 * a pidfd that turns readable once the process has exited, and {@link #reap()}, which then returns
 * its status (unknown for a process that is not this supervisor's child), completes {@link #exit()}
 * and closes the pidfd.
 */
final class FakeChild implements dev.baton.os.ChildProcess {
  private final FakeOs os;
  final FakeProcess process;
  private final Pidfd pidfd;
  private final Fd exitFd;
  private final PipeInput stdout;
  private final PipeInput stderr;
  private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
  private Optional<ExitStatus> reaped = Optional.empty();

  FakeChild(FakeOs os, FakeProcess process, PipeInput stdout, PipeInput stderr) {
    this.os = os;
    this.process = process;
    this.pidfd = new Pidfd(os);
    this.exitFd = os.open(pidfd);
    this.stdout = stdout;
    this.stderr = stderr;
    process.handles.add(this);
  }

  /** The process has exited: the pidfd is ready. */
  void exited() {
    pidfd.touch();
  }

  @Override
  public int pid() {
    return process.pid;
  }

  @Override
  public boolean signal(Signal signal) {
    if (reaped.isPresent() || process.hasExited()) {
      return false;
    }
    process.deliver(signal);
    return true;
  }

  @Override
  public CompletableFuture<ExitStatus> exit() {
    return exit;
  }

  @Override
  public Fd exitFd() {
    return exitFd;
  }

  @Override
  public Optional<ExitStatus> reap() {
    if (reaped.isPresent() || process.status.isEmpty()) {
      return reaped;
    }
    var status = process.parent == os.pid() ? process.status.get() : ExitStatus.unknown();
    if (process.parent == os.pid()) {
      process.gone = true;
    }
    reaped = Optional.of(status);
    os.close(exitFd);
    exit.complete(status);
    return reaped;
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
    return List.of(process.stdout.link(), process.stderr.link());
  }

  private final class Pidfd extends FakeFile {
    Pidfd(FakeOs os) {
      super(os);
    }

    @Override
    int readiness() {
      return process.hasExited() && reaped.isEmpty() ? Poller.READABLE : 0;
    }

    @Override
    String link() {
      return "anon_inode:[pidfd " + process.pid + "]";
    }
  }
}
