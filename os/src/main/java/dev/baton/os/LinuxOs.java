package dev.baton.os;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** {@link Os} on Linux x86-64 with glibc 2.36 or later, through the FFM API. */
final class LinuxOs implements Os {
  private static final LinuxOs INSTANCE = new LinuxOs();

  /** Backlog of Unix listeners: the control socket sees a handful of CLI calls at a time. */
  private static final int UNIX_BACKLOG = 128;

  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private LinuxOs() {}

  static LinuxOs instance() {
    return INSTANCE;
  }

  @Override
  public int pid() {
    return Libc.getpid();
  }

  @Override
  public int uid() {
    return Libc.getuid();
  }

  // ---- Listeners ------------------------------------------------------------------------------

  @Override
  public Fd listen(ListenAddress address, int backlog) {
    return switch (address) {
      case ListenAddress.Tcp tcp -> listenTcp(tcp, backlog);
      case ListenAddress.Unix unix -> new Fd(listenUnixSocket(unix.path(), backlog, -1));
    };
  }

  private static Fd listenTcp(ListenAddress.Tcp tcp, int backlog) {
    int domain = tcp.address().getAddress() instanceof Inet6Address ? Libc.AF_INET6 : Libc.AF_INET;
    // IPV6_V6ONLY stays at the system default (net.ipv6.bindv6only), as systemd leaves it.
    int fd = Libc.socket(domain, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, "socket(" + tcp + ")");
    try (var arena = Arena.ofConfined()) {
      // SO_REUSEADDR lets a restarted supervisor bind while old connections sit in TIME_WAIT.
      Libc.setsockopt(
          fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1, "setsockopt(" + tcp + ", SO_REUSEADDR)");
      if (tcp.reusePort()) {
        Libc.setsockopt(
            fd, Libc.SOL_SOCKET, Libc.SO_REUSEPORT, 1, "setsockopt(" + tcp + ", SO_REUSEPORT)");
      }
      Libc.bind(fd, Sockaddr.inet(arena, tcp.address()), "bind(" + tcp + ")");
      Libc.listen(fd, backlog, "listen(" + tcp + ")");
      return new Fd(fd);
    } catch (RuntimeException e) {
      Libc.close(fd);
      throw e;
    }
  }

  /**
   * A listening AF_UNIX stream socket at {@code path}, created with {@code mode} unless it is -1.
   *
   * <p>The mode is set on the socket with fchmod before bind, and Linux creates the file with it
   * (less the umask): a chmod by path after bind would follow a symlink swapped in between.
   */
  private static int listenUnixSocket(Path path, int backlog, int mode) {
    String what = "unix:" + path;
    int fd =
        Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, "socket(" + what + ")");
    boolean bound = false;
    try (var arena = Arena.ofConfined()) {
      if (mode != -1) {
        LinuxUnixListener.restrictBeforeBind(fd, mode, path);
      }
      bindUnix(fd, path, Libc.SOCK_STREAM, arena);
      bound = true;
      Libc.listen(fd, backlog, "listen(" + what + ")");
      return fd;
    } catch (RuntimeException e) {
      Libc.close(fd);
      if (bound) {
        deleteQuietly(path, e);
      }
      throw e;
    }
  }

  /** Binds {@code fd} to {@code path}, first removing the file a dead process left behind. */
  private static void bindUnix(int fd, Path path, int type, Arena arena) {
    String what = "bind(unix:" + path + ")";
    if (!isAbstract(path)) {
      removeStaleSocket(path, type, what);
    }
    Libc.bind(fd, Sockaddr.unix(arena, path.toString()), what);
  }

  /** "@name": a socket in the abstract namespace, which has no file. */
  static boolean isAbstract(Path path) {
    return path.toString().startsWith("@");
  }

  /**
   * Removes a socket file left by a process that died, so bind can succeed. Only a socket is
   * removed, and only when nothing answers on it: a live supervisor's socket is never taken over.
   * Any other kind of file stays, and bind then fails with EADDRINUSE naming the path.
   */
  private static void removeStaleSocket(Path path, int type, String what) {
    int mode;
    try {
      mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot inspect " + path, e);
    }
    if ((mode & S_IFMT) != S_IFSOCK) {
      return;
    }
    boolean live;
    int probe = Libc.socket(Libc.AF_UNIX, type | Libc.SOCK_CLOEXEC, "socket(unix:" + path + ")");
    try (var arena = Arena.ofConfined()) {
      Libc.connect(probe, Sockaddr.unix(arena, path.toString()), "connect(unix:" + path + ")");
      live = true;
    } catch (NativeException e) {
      if (e.errno() != Libc.ECONNREFUSED && e.errno() != Libc.ENOENT) {
        throw e;
      }
      live = false;
    } finally {
      Libc.close(probe);
    }
    if (live) {
      throw Native.error(
          what, Libc.EADDRINUSE); // the owner has seen one empty connection: harmless
    }
    removeSocketFile(path, "the stale socket");
  }

  /** Removes the file a socket was bound to; {@code what} says which file in the exception. */
  static void removeSocketFile(Path path, String what) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + what + " " + path, e);
    }
  }

  private static void deleteQuietly(Path path, Exception cause) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public InetSocketAddress localAddress(Fd listener) {
    try (var arena = Arena.ofConfined()) {
      var address = arena.allocate(Sockaddr.STORAGE_SIZE, 8);
      Libc.getsockname(listener.value(), address, "getsockname(" + listener + ")");
      return Sockaddr.decodeInet(address, listener.toString());
    }
  }

  // struct tcp_info: for a listener, tcpi_unacked is the accept queue's length and tcpi_sacked its
  // limit (include/uapi/linux/tcp.h, net/ipv4/tcp.c's tcp_get_info).
  private static final int TCP_INFO = 11;
  private static final int TCP_INFO_SIZE = 104;
  private static final long TCPI_UNACKED = 24;
  private static final long TCPI_SACKED = 28;

  @Override
  public Optional<AcceptQueue> acceptQueue(Fd listener) {
    try (var arena = Arena.ofConfined()) {
      var info = arena.allocate(TCP_INFO_SIZE, 8);
      Libc.getsockopt(
          listener.value(),
          Libc.IPPROTO_TCP,
          TCP_INFO,
          info,
          "getsockopt(" + listener + ", TCP_INFO)");
      return Optional.of(
          new AcceptQueue(
              info.get(ValueLayout.JAVA_INT, TCPI_UNACKED),
              info.get(ValueLayout.JAVA_INT, TCPI_SACKED)));
    } catch (NativeException e) {
      return Optional.empty();
    }
  }

  /** Probed on first use, once: baton never changes its capabilities as it runs. */
  private static final class SteeringProbe {
    static final Optional<String> UNAVAILABLE = LinuxSteering.probe();
  }

  @Override
  public Optional<String> steeringUnavailable() {
    return SteeringProbe.UNAVAILABLE;
  }

  @Override
  public Steering steering() {
    return new LinuxSteering();
  }

  @Override
  public void close(Fd fd) {
    Libc.close(fd.value());
  }

  @Override
  public Optional<String> portOwner(int port) {
    return Proc.portOwner(port);
  }

  // ---- Processes ------------------------------------------------------------------------------

  @Override
  public ChildProcess spawn(SpawnSpec spec) {
    return LinuxSpawn.spawn(spec);
  }

  @Override
  public Optional<Fd> takeFd(int pid, String link, boolean forReading) {
    return Proc.takeFd(pid, link, forReading);
  }

  @Override
  public String link(Fd fd) {
    return Proc.link(fd);
  }

  @Override
  public ChildProcess adopt(int pid, @Nullable Fd stdout, @Nullable Fd stderr) {
    int pidfd = Libc.pidfdOpen(pid, "pidfd_open(pid " + pid + ")");
    return new LinuxChildProcess(
        pid,
        pidfd,
        taken(stdout),
        taken(stderr),
        List.of(stdout == null ? "" : link(stdout), stderr == null ? "" : link(stderr)));
  }

  /** An output pipe's read end taken from another process; reads as empty when there is none. */
  private static PipeInput taken(@Nullable Fd fd) {
    return fd == null
        ? PipeInput.empty()
        : new FdInputStream(new SharedFd(fd.value()), /* ownsFd= */ true);
  }

  @Override
  public java.util.OptionalLong startTime(int pid) {
    return Proc.startTime(pid);
  }

  @Override
  public void exec(List<String> argv, Map<String, String> env) {
    try (var arena = Arena.ofConfined()) {
      var program =
          LinuxSpawn.resolve(
              argv.getFirst(),
              env.getOrDefault("PATH", LinuxSpawn.DEFAULT_PATH),
              Path.of("").toAbsolutePath());
      // The JDK opens some sockets (an HTTP server's, say) without close-on-exec; the new program
      // must find every port free to bind again.
      Libc.closeOnExecFrom(3, "close_range(3, ~0, CLOSE_RANGE_CLOEXEC)");
      Libc.execve(
          arena.allocateFrom(program),
          LinuxSpawn.cStrings(arena, argv),
          LinuxSpawn.cStrings(arena, LinuxSpawn.environment(env)),
          "execve(" + program + ")");
    }
  }

  @Override
  public boolean signalGroup(int pgid, Signal signal) {
    // kill(-0) signals our own group and kill(-1) every process we may signal: never that.
    if (pgid <= 1) {
      throw new IllegalArgumentException("not a process group of a generation: " + pgid);
    }
    return Libc.kill(
        -pgid, signal.number(), "kill(-" + pgid + ", " + Signal.name(signal.number()) + ")");
  }

  // ---- Unix sockets ---------------------------------------------------------------------------

  /**
   * {@inheritDoc}
   *
   * <p>A path spelled "@name" binds in the abstract namespace instead, as systemd's NOTIFY_SOCKET
   * allows: no file is created or removed.
   */
  @Override
  public NotifySocket openNotifySocket(Path path) {
    String what = "unix:" + path;
    int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, "socket(" + what + ")");
    try (var arena = Arena.ofConfined()) {
      // Set before bind, so no datagram can arrive without its sender's credentials.
      Libc.setsockopt(
          fd, Libc.SOL_SOCKET, Libc.SO_PASSCRED, 1, "setsockopt(" + what + ", SO_PASSCRED)");
      bindUnix(fd, path, Libc.SOCK_DGRAM, arena);
      return new LinuxNotifySocket(path, fd);
    } catch (RuntimeException e) {
      Libc.close(fd);
      throw e;
    }
  }

  @Override
  public void sendNotify(String address, String message) {
    int fd =
        Libc.socket(
            Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, "socket(unix:" + address + ")");
    try (var arena = Arena.ofConfined()) {
      var data = arena.allocateFrom(JAVA_BYTE, message.getBytes(StandardCharsets.UTF_8));
      Libc.sendto(
          fd, data, Libc.MSG_NOSIGNAL, Sockaddr.unix(arena, address), "sendto(" + address + ")");
    } finally {
      Libc.close(fd);
    }
  }

  @Override
  public UnixListener listenUnix(Path path, int mode) {
    if ((mode & ~0777) != 0) {
      throw new IllegalArgumentException(
          "mode 0" + Integer.toOctalString(mode) + " is not a permission mode like 0600");
    }
    return new LinuxUnixListener(path, listenUnixSocket(path, UNIX_BACKLOG, mode));
  }

  @Override
  public UnixConnection connectUnix(Path path) {
    String what = "unix:" + path;
    int fd =
        Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, "socket(" + what + ")");
    try (var arena = Arena.ofConfined()) {
      Libc.connect(fd, Sockaddr.unix(arena, path.toString()), "connect(" + what + ")");
      return new LinuxUnixConnection(fd);
    } catch (RuntimeException e) {
      Libc.close(fd);
      throw e;
    }
  }

  @Override
  public Poller poller() {
    return new LinuxPoller();
  }

  @Override
  public Map<String, String> environment() {
    return System.getenv();
  }
}
