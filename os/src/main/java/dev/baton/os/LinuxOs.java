package dev.baton.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@link Os} on Linux x86-64 with glibc 2.36 or later, through the FFM API. */
final class LinuxOs implements Os {
  private static final LinuxOs INSTANCE = new LinuxOs();

  /** Backlog of Unix listeners: the control socket sees a handful of CLI calls at a time. */
  private static final int UNIX_BACKLOG = 128;

  /** What execvp(3) searches when the environment has no PATH. */
  private static final String DEFAULT_PATH = "/usr/bin:/bin";

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
   * A listening AF_UNIX stream socket at {@code path}, chmod'ed to {@code mode} unless it is -1.
   *
   * <p>The chmod happens after bind but before listen. In between, the file exists with the umask's
   * permissions, but nobody can connect to a socket that isn't listening (connect fails with
   * ECONNREFUSED), so no client ever gets in under a wider mode. Changing the process umask around
   * bind instead would race with every other thread creating files.
   */
  private static int listenUnixSocket(Path path, int backlog, int mode) {
    String what = "unix:" + path;
    int fd =
        Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, "socket(" + what + ")");
    boolean bound = false;
    try (var arena = Arena.ofConfined()) {
      bindUnix(fd, path, Libc.SOCK_STREAM, arena);
      bound = true;
      if (mode != -1) {
        Libc.chmod(
            arena.allocateFrom(path.toString()),
            mode,
            "chmod(" + path + ", 0" + Integer.toOctalString(mode) + ")");
      }
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
      throw Libc.error(what, Libc.EADDRINUSE); // the owner has seen one empty connection: harmless
    }
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the stale socket " + path, e);
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

  @Override
  public void close(Fd fd) {
    Libc.close(fd.value());
  }

  /**
   * Reads the kernel's TCP tables for a LISTEN socket on {@code port}, then looks for the process
   * holding that socket's inode among /proc/PID/fd. Processes we may not inspect are skipped.
   */
  @Override
  public Optional<String> portOwner(int port) {
    var sockets = listeningSocketInodes(port);
    if (sockets.isEmpty()) {
      return Optional.empty();
    }
    // Lowest pid first: a socket shared with children is usually the parent's.
    for (int pid : pids()) {
      try (DirectoryStream<Path> fds =
          Files.newDirectoryStream(Path.of("/proc", Integer.toString(pid), "fd"))) {
        for (var fd : fds) {
          if (sockets.contains(linkTarget(fd))) {
            var comm = Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).strip();
            return Optional.of("pid " + pid + " (" + comm + ")");
          }
        }
      } catch (IOException | java.nio.file.DirectoryIteratorException e) {
        // Gone, or not ours to look at: best effort.
      }
    }
    return Optional.empty();
  }

  /** An fd's link, or "" when it was closed while we looked: a busy process opens and closes many. */
  private static String linkTarget(Path fd) {
    try {
      return Files.readSymbolicLink(fd).toString();
    } catch (IOException e) {
      return "";
    }
  }

  /** "socket:[inode]" for each LISTEN socket on the port, as /proc/PID/fd links name them. */
  private static Set<String> listeningSocketInodes(int port) {
    var sockets = new HashSet<String>();
    for (var table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      List<String> lines;
      try {
        lines = Files.readAllLines(Path.of(table));
      } catch (IOException e) {
        continue; // no IPv6 in this kernel
      }
      // "sl local_address rem_address st ... uid timeout inode": the port is hex, LISTEN is 0A.
      for (var line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        var fields = line.strip().split("\\s+");
        if (fields.length < 10) {
          continue;
        }
        var local = fields[1];
        var localPort = local.substring(local.lastIndexOf(':') + 1);
        if (localPort.equals(String.format("%04X", port))
            && fields[3].equals("0A")
            && !fields[9].equals("0")) {
          sockets.add("socket:[" + fields[9] + "]");
        }
      }
    }
    return sockets;
  }

  private static List<Integer> pids() {
    var pids = new ArrayList<Integer>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (var entry : entries) {
        pids.add(Integer.parseInt(entry.getFileName().toString()));
      }
    } catch (IOException | NumberFormatException e) {
      // best effort
    }
    pids.sort(Comparator.naturalOrder());
    return pids;
  }

  // ---- Processes ------------------------------------------------------------------------------

  /**
   * posix_spawn with the descriptors arranged by file actions in the child, between its fork and
   * its exec. Targets are 0 (stdin), 1 and 2 (the new pipes) and 3.. (the listeners).
   *
   * <p>A source may already have a target's number: with listeners at fds 4 and 3 passed in that
   * order, "dup2(4, 3); dup2(3, 4)" would give the child the same socket twice. So every source is
   * first copied, in the parent, to a close-on-exec number above all targets, and the child dup2s
   * from those copies; no dup2 can then overwrite a source still to be read.
   *
   * <p>closefrom(3 + n) then closes everything above the targets, the copies included. The JVM
   * holds dozens of descriptors (jars, epoll, sockets), and not all of them are close-on-exec; a
   * generation must get exactly the descriptors the spec names and nothing else.
   */
  @Override
  public ChildProcess spawn(SpawnSpec spec) {
    var argv0 = spec.argv().getFirst();
    var workdir = spec.workdir().toAbsolutePath();
    if (!Files.isDirectory(workdir)) {
      // posix_spawn would report this as a bare ENOENT, as if the program were missing.
      throw Libc.error("posix_spawn(" + argv0 + "): chdir(" + workdir + ")", Libc.ENOENT);
    }
    var program = resolve(argv0, spec.env().getOrDefault("PATH", DEFAULT_PATH), workdir);
    String what = "posix_spawn(" + argv0 + ")";
    // The listeners, then the read ends of the child's own output pipes (see SpawnSpec).
    int firstFree = spec.stderrReadFd() + 1;

    var parentCopies = new ArrayList<Integer>(); // closed in the parent once the child has them
    var readEnds = new ArrayList<Integer>(); // kept on success, closed on failure
    boolean spawned = false;
    try (var arena = Arena.ofConfined()) {
      int[] stdout = Libc.pipe("pipe2(stdout of " + argv0 + ")");
      readEnds.add(stdout[0]);
      parentCopies.add(stdout[1]);
      int[] stderr = Libc.pipe("pipe2(stderr of " + argv0 + ")");
      readEnds.add(stderr[0]);
      parentCopies.add(stderr[1]);

      var actions = arena.allocate(Libc.POSIX_SPAWN_FILE_ACTIONS_SIZE, 8);
      var attr = arena.allocate(Libc.POSIX_SPAWNATTR_SIZE, 8);
      Libc.fileActionsInit(actions);
      Libc.spawnattrInit(attr);
      int pid;
      try {
        Libc.addChdir(actions, arena.allocateFrom(workdir.toString()), "addchdir(" + workdir + ")");
        if (spec.stdin().isPresent()) {
          int copy = copyAbove(spec.stdin().get().value(), firstFree, parentCopies);
          Libc.addDup2(actions, copy, 0, "adddup2(stdin)");
        } else {
          Libc.addOpen(actions, 0, arena.allocateFrom("/dev/null"), Libc.O_RDONLY, "addopen(0)");
        }
        Libc.addDup2(actions, copyAbove(stdout[1], firstFree, parentCopies), 1, "adddup2(1)");
        Libc.addDup2(actions, copyAbove(stderr[1], firstFree, parentCopies), 2, "adddup2(2)");
        for (int i = 0; i < spec.listenFds().size(); i++) {
          int copy = copyAbove(spec.listenFds().get(i).value(), firstFree, parentCopies);
          Libc.addDup2(actions, copy, 3 + i, "adddup2(" + (3 + i) + ")");
        }
        Libc.addDup2(actions, copyAbove(stdout[0], firstFree, parentCopies), spec.stdoutReadFd(), "adddup2(stdout read end)");
        Libc.addDup2(actions, copyAbove(stderr[0], firstFree, parentCopies), spec.stderrReadFd(), "adddup2(stderr read end)");
        Libc.addClosefrom(actions, firstFree, "addclosefrom(" + firstFree + ")");
        startClean(attr, arena);
        var argv = cStrings(arena, spec.argv());
        var envp = cStrings(arena, environment(spec.env()));
        pid = Libc.posixSpawn(arena.allocateFrom(program), actions, attr, argv, envp, what);
      } finally {
        Libc.fileActionsDestroy(actions);
        Libc.spawnattrDestroy(attr);
      }

      int pidfd;
      try {
        pidfd = Libc.pidfdOpen(pid, "pidfd_open(pid " + pid + ")");
      } catch (NativeException e) {
        // A child we can't hold through a pidfd would run unmanaged: don't leave it running.
        Libc.kill(pid, Signal.KILL.number(), "kill(pid " + pid + ")");
        throw e;
      }
      spawned = true;
      var pipes = List.of(link(new Fd(stdout[0])), link(new Fd(stderr[0])));
      return new LinuxChildProcess(
          pid,
          pidfd,
          new FdInputStream(new SharedFd(stdout[0]), /* ownsFd= */ true),
          new FdInputStream(new SharedFd(stderr[0]), /* ownsFd= */ true),
          pipes);
    } finally {
      // The child has its own copies now; ours would keep the pipes from ever reaching EOF.
      parentCopies.forEach(Libc::close);
      if (!spawned) {
        readEnds.forEach(Libc::close);
      }
    }
  }

  /**
   * The JVM blocks and handles signals of its own; a generation starts from a clean slate: nothing
   * blocked, every disposition the default, and its own session.
   */
  private static void startClean(MemorySegment attr, Arena arena) {
    var empty = arena.allocate(Libc.SIGSET_SIZE, 8);
    Libc.sigemptyset(empty);
    Libc.spawnattrSetsigmask(attr, empty);
    // Every bit set, not sigfillset: sigfillset leaves out glibc's internal signals 32 and 33
    // (SIGCANCEL, SIGSETXID), and for those posix_spawn then sets SIG_IGN in the child, which
    // survives exec (ProcessBuilder's children show SigIgn 0000000180000000). With them in the set,
    // the child resets them to SIG_DFL like the rest.
    var all = arena.allocate(Libc.SIGSET_SIZE, 8);
    all.fill((byte) 0xff);
    Libc.spawnattrSetsigdefault(attr, all);
    // A new session makes the child a process group leader, so signalGroup(pid) reaches its whole
    // tree, and the supervisor's terminal (Ctrl-C) no longer does.
    int flags = Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSID;
    Libc.spawnattrSetflags(attr, (short) flags);
  }

  /** A close-on-exec copy of {@code fd} numbered {@code min} or higher, remembered for closing. */
  private static int copyAbove(int fd, int min, List<Integer> copies) {
    int copy = Libc.dupCloexec(fd, min, "fcntl(fd=" + fd + ", F_DUPFD_CLOEXEC, " + min + ")");
    copies.add(copy);
    return copy;
  }

  /**
   * argv[0] as execvp would find it, but on the PATH of the child's environment: posix_spawnp would
   * search the supervisor's own PATH instead. A relative PATH entry is taken from the child's
   * working directory, where the exec happens.
   */
  private static String resolve(String argv0, String path, Path workdir) {
    if (argv0.contains("/")) {
      return argv0;
    }
    for (var dir : path.split(":", -1)) {
      var candidate = workdir.resolve(dir).resolve(argv0);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    throw Libc.error("posix_spawn(" + argv0 + ")", Libc.ENOENT);
  }

  private static List<String> environment(Map<String, String> env) {
    return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).sorted().toList();
  }

  /** A NULL-terminated array of C strings, as argv and envp are. */
  private static MemorySegment cStrings(Arena arena, List<String> strings) {
    var array = arena.allocate(ADDRESS, strings.size() + 1); // zeroed: the last slot is the NULL
    for (int i = 0; i < strings.size(); i++) {
      array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
    }
    return array;
  }

  @Override
  public Optional<Fd> takeFd(int pid, String link, boolean forReading) {
    var fds = Path.of("/proc", Integer.toString(pid), "fd");
    var numbers = new ArrayList<Integer>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
      for (var entry : entries) {
        if (linkTarget(entry).equals(link)) {
          numbers.add(Integer.parseInt(entry.getFileName().toString()));
        }
      }
    } catch (IOException | java.nio.file.DirectoryIteratorException e) {
      return Optional.empty();
    }
    numbers.sort(Comparator.naturalOrder());
    for (int fd : numbers) {
      if (forReading && !openForReading(pid, fd)) {
        continue;
      }
      int pidfd = Libc.pidfdOpen(pid, "pidfd_open(pid " + pid + ")");
      try {
        return Optional.of(new Fd(Libc.pidfdGetfd(pidfd, fd, "pidfd_getfd(pid " + pid + ", fd=" + fd + ")")));
      } finally {
        Libc.close(pidfd);
      }
    }
    return Optional.empty();
  }

  /** /proc/PID/fdinfo/FD "flags:" is octal; O_ACCMODE 0 is O_RDONLY. */
  private static boolean openForReading(int pid, int fd) {
    try {
      for (var line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "fdinfo", Integer.toString(fd)))) {
        if (line.startsWith("flags:")) {
          return (Integer.parseInt(line.substring(6).trim(), 8) & 3) == 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Gone: not a candidate.
    }
    return false;
  }

  @Override
  public String link(Fd fd) {
    return linkTarget(Path.of("/proc/self/fd", Integer.toString(fd.value())));
  }

  @Override
  public ChildProcess adopt(int pid, Optional<Fd> stdout, Optional<Fd> stderr) {
    int pidfd = Libc.pidfdOpen(pid, "pidfd_open(pid " + pid + ")");
    return new LinuxChildProcess(
        pid,
        pidfd,
        stdout.<PipeInput>map(fd -> new FdInputStream(new SharedFd(fd.value()), /* ownsFd= */ true)).orElse(PipeInput.empty()),
        stderr.<PipeInput>map(fd -> new FdInputStream(new SharedFd(fd.value()), /* ownsFd= */ true)).orElse(PipeInput.empty()),
        List.of(stdout.map(this::link).orElse(""), stderr.map(this::link).orElse("")));
  }

  @Override
  public java.util.OptionalLong startTime(int pid) {
    try {
      var stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      // Fields after the parenthesised command name; starttime is field 22 of stat(5).
      var fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return java.util.OptionalLong.of(Long.parseLong(fields[19]));
    } catch (IOException | RuntimeException e) {
      return java.util.OptionalLong.empty();
    }
  }

  @Override
  public void exec(List<String> argv, Map<String, String> env) {
    try (var arena = Arena.ofConfined()) {
      var program = resolve(argv.getFirst(), env.getOrDefault("PATH", DEFAULT_PATH), Path.of("").toAbsolutePath());
      // The JDK opens some sockets (an HTTP server's, say) without close-on-exec; the new program
      // must find every port free to bind again.
      Libc.closeOnExecFrom(3, "close_range(3, ~0, CLOSE_RANGE_CLOEXEC)");
      Libc.execve(arena.allocateFrom(program), cStrings(arena, argv), cStrings(arena, environment(env)), "execve(" + program + ")");
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
    throw new UnsupportedOperationException("todo");
  }

  @Override
  public Map<String, String> environment() {
    return System.getenv();
  }
}
