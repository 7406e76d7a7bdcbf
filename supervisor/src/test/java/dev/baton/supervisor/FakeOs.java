package dev.baton.supervisor;

import dev.baton.os.ChildProcess;
import dev.baton.os.ExitStatus;
import dev.baton.os.Fd;
import dev.baton.os.ListenAddress;
import dev.baton.os.NativeException;
import dev.baton.os.NotifyMessage;
import dev.baton.os.NotifySocket;
import dev.baton.os.Os;
import dev.baton.os.PipeInput;
import dev.baton.os.Signal;
import dev.baton.os.SpawnSpec;
import dev.baton.os.UnixConnection;
import dev.baton.os.UnixListener;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The operating system as the supervisor's unit tests script it: processes are futures, signals
 * are recorded, and each spawned "app" behaves as {@link #app} says.
 */
final class FakeOs implements Os {
  final List<FakeChild> children = new CopyOnWriteArrayList<>();
  final List<String> groupSignals = new CopyOnWriteArrayList<>();
  final List<Fd> closed = new CopyOnWriteArrayList<>();
  final FakeNotifySocket notify = new FakeNotifySocket();
  private final AtomicInteger nextFd = new AtomicInteger(10);
  private final AtomicInteger nextPid = new AtomicInteger(1000);

  /** What each spawned app does; by default it notifies READY=1 and drains on SIGTERM. */
  volatile Consumer<FakeChild> app = FakeChild::notifyReady;

  volatile Optional<NativeException> listenError = Optional.empty();

  @Override
  public int pid() {
    return 1;
  }

  @Override
  public int uid() {
    return 1000;
  }

  @Override
  public Fd listen(ListenAddress address, int backlog) {
    if (listenError.isPresent()) {
      throw listenError.get();
    }
    return new Fd(nextFd.getAndIncrement());
  }

  @Override
  public InetSocketAddress localAddress(Fd listener) {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000 + listener.value());
  }

  @Override
  public Optional<String> portOwner(int port) {
    return Optional.of("pid 4121 (nginx)");
  }

  @Override
  public void close(Fd fd) {
    closed.add(fd);
  }

  @Override
  public ChildProcess spawn(SpawnSpec spec) {
    var child = new FakeChild(this, nextPid.getAndIncrement(), spec);
    children.add(child);
    Thread.ofVirtual().start(() -> app.accept(child));
    return child;
  }

  @Override
  public Optional<Fd> takeFd(int pid, String link, boolean forReading) {
    return Optional.empty();
  }

  @Override
  public String link(Fd fd) {
    return "socket:[" + fd.value() + "]";
  }

  @Override
  public ChildProcess adopt(int pid, Optional<Fd> stdout, Optional<Fd> stderr) {
    throw new UnsupportedOperationException("adoption is tested against Linux, in e2e");
  }

  @Override
  public java.util.OptionalLong startTime(int pid) {
    return java.util.OptionalLong.empty();
  }

  @Override
  public void exec(List<String> argv, java.util.Map<String, String> env) {
    throw new UnsupportedOperationException("exec is tested against Linux, in e2e");
  }

  @Override
  public boolean signalGroup(int pgid, Signal signal) {
    groupSignals.add(pgid + ":" + signal);
    children.stream().filter(c -> c.pid == pgid).forEach(c -> c.deliver(signal));
    return true;
  }

  @Override
  public NotifySocket openNotifySocket(Path path) {
    notify.path = path;
    return notify;
  }

  @Override
  public void sendNotify(String address, String message) {}

  @Override
  public UnixListener listenUnix(Path path, int mode) {
    var closed = new java.util.concurrent.CountDownLatch(1);
    return new UnixListener() {
      @Override
      public Path path() {
        return path;
      }

      @Override
      public Optional<UnixConnection> accept() {
        try {
          closed.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return Optional.empty();
      }

      @Override
      public void close() {
        closed.countDown();
      }
    };
  }

  @Override
  public UnixConnection connectUnix(Path path) {
    throw new UnsupportedOperationException();
  }

  FakeChild child(int index) {
    return children.get(index);
  }

  static final class FakeChild implements ChildProcess {
    final FakeOs os;
    final int pid;
    final SpawnSpec spec;
    final List<Signal> signals = new CopyOnWriteArrayList<>();
    final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    /** Whether SIGTERM makes it exit; a stubborn app ignores it and needs SIGKILL. */
    volatile boolean drainsOnTerm = true;

    FakeChild(FakeOs os, int pid, SpawnSpec spec) {
      this.os = os;
      this.pid = pid;
      this.spec = spec;
    }

    void notifyReady() {
      os.notify.queue.add(Optional.of(new NotifyMessage(pid, 1000, "READY=1")));
    }

    void exitWith(int code) {
      exit.complete(ExitStatus.exited(code));
    }

    void deliver(Signal signal) {
      signals.add(signal);
      if (signal == Signal.KILL) {
        exit.complete(ExitStatus.killed(9));
      } else if (signal == Signal.TERM && drainsOnTerm) {
        exit.complete(ExitStatus.exited(0));
      }
    }

    @Override
    public int pid() {
      return pid;
    }

    @Override
    public boolean signal(Signal signal) {
      if (exit.isDone()) {
        return false;
      }
      deliver(signal);
      return true;
    }

    @Override
    public CompletableFuture<ExitStatus> exit() {
      return exit;
    }

    @Override
    public PipeInput stdout() {
      return PipeInput.empty();
    }

    @Override
    public PipeInput stderr() {
      return PipeInput.empty();
    }

    @Override
    public List<String> outputPipes() {
      return List.of("pipe:[" + pid + "1]", "pipe:[" + pid + "2]");
    }
  }

  static final class FakeNotifySocket implements NotifySocket {
    final LinkedBlockingQueue<Optional<NotifyMessage>> queue = new LinkedBlockingQueue<>();
    volatile Path path = Path.of("/fake/notify");

    @Override
    public Path path() {
      return path;
    }

    @Override
    public Optional<NotifyMessage> receive() {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
    }

    @Override
    public void close() {
      queue.add(Optional.empty());
    }
  }
}
