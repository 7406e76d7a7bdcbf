package dev.baton.supervisor;

import dev.baton.os.ChildProcess;
import dev.baton.os.Fd;
import dev.baton.os.ListenAddress;
import dev.baton.os.NativeException;
import dev.baton.os.NotifySocket;
import dev.baton.os.Os;
import dev.baton.os.PeerCredentials;
import dev.baton.os.PipeInput;
import dev.baton.os.Poller;
import dev.baton.os.ProcessStat;
import dev.baton.os.Signal;
import dev.baton.os.SpawnSpec;
import dev.baton.os.UnixConnection;
import dev.baton.os.UnixListener;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The operating system as the supervisor's unit tests script it, on one thread and without a real
 * process, socket or wait. Descriptors are numbers in a table of {@link FakeFile}s; the {@link
 * FakePoller} reports what they are ready for; processes ({@link FakeProcess}) exit when the test
 * says so or a signal ends them; Unix sockets carry bytes between the supervisor and the test,
 * which connects with {@link #connect} to speak the control protocol or to play baton-app.
 *
 * <p>It outlives a supervisor: {@link #crashSupervisor()} and {@link #exec} close every descriptor
 * the supervisor held, as the kernel would, while the generations and the files they hold stay, so
 * a new supervisor on the same fake can take them back.
 *
 * <p>It also checks the supervisor's manners: closing a descriptor that is not open, or one a
 * poller still watches, is written down in {@link #violations}.
 */
final class FakeOs implements Os {
  /** The uid the supervisor and the generations run as. */
  static final int UID = 1000;

  /**
   * What {@link #exec} throws once it has "replaced" the supervisor: execve returns only by
   * failing.
   */
  static final class Execed extends Error {
    private static final long serialVersionUID = 1L;
    final List<String> argv;
    final Map<String, String> env;

    Execed(List<String> argv, Map<String, String> env) {
      super("execve(" + argv + ") replaced the supervisor's image");
      this.argv = List.copyOf(argv);
      this.env = Map.copyOf(env);
    }
  }

  final InstantSource clock;
  private int pid = 500;
  private long supervisorStartTime = 77_000;
  private int nextFd = 3;
  private int nextPid = 1000;
  private int nextInode = 100;
  private long ticks;

  private final Map<Integer, FakeFile> fds = new LinkedHashMap<>();
  final List<FakeProcess> processes = new ArrayList<>();
  final Map<Path, FakeSockets.Listener> unixListeners = new HashMap<>();
  final Map<String, FakeSockets.Notify> notifySockets = new HashMap<>();
  final List<FakePoller> pollers = new ArrayList<>();

  /**
   * The session the supervisor runs in: a shell's at first; after a crash, its own (systemd's
   * setsid).
   */
  int session = 400;

  /** What /proc/sys/kernel/random/boot_id says. */
  String bootId = "3f1c2a9e-boot-one";

  /** Processes that are not the supervisor's generations, as /proc shows them, by pid. */
  final Map<Integer, ProcessStat> strangers = new HashMap<>();

  /**
   * Owners of files other than the supervisor's uid, as the test sets them; every other file is
   * UID's.
   */
  final Map<Path, Integer> fileOwners = new HashMap<>();

  /**
   * Every pidfd_getfd the supervisor asked for, as "pid:link", whether there was such a descriptor
   * or not.
   */
  final List<String> fdsAskedFor = new ArrayList<>();

  /** The session each generation was spawned into, by pid. */
  private final Map<Integer, Integer> sessions = new HashMap<>();

  /** The supervisor's environment as the test sets it. */
  final Map<String, String> environment =
      new HashMap<>(Map.of("PATH", "/usr/bin:/bin", "HOME", "/home/baton"));

  /** Every kill(-pgid) as "pgid:SIGNAL", whether anything was left in the group or not. */
  final List<String> groupSignals = new ArrayList<>();

  /**
   * Group signals sent once the leader was reaped: its pid was free, a new setsid() process could
   * have it.
   */
  final List<String> groupSignalsAfterReap = new ArrayList<>();

  /** What the supervisor told systemd through its NOTIFY_SOCKET. */
  final List<String> toSystemd = new ArrayList<>();

  /** Every execve that "succeeded". */
  final List<Execed> execs = new ArrayList<>();

  /** Misuses of descriptors: each is a bug in the supervisor. */
  final List<String> violations = new ArrayList<>();

  /** What each spawned app does at once; by default it says READY=1 on NOTIFY_SOCKET. */
  Consumer<FakeProcess> app = FakeProcess::ready;

  Optional<NativeException> listenError = Optional.empty();
  Optional<NativeException> spawnError = Optional.empty();
  Optional<NativeException> execError = Optional.empty();

  FakeOs(InstantSource clock) {
    this.clock = clock;
  }

  // The descriptor table

  long tick() {
    return ++ticks;
  }

  Fd open(FakeFile file) {
    int n = nextFd++;
    fds.put(n, file);
    file.touch();
    return new Fd(n);
  }

  /**
   * A number for a descriptor some other process holds: unique, never in the supervisor's table.
   */
  Fd foreignFd() {
    return new Fd(nextFd++);
  }

  FakeFile file(Fd fd) {
    return fds.get(fd.value());
  }

  boolean isOpen(Fd fd) {
    return fds.containsKey(fd.value());
  }

  /** Every descriptor the supervisor holds, as "fd=N socket:[123]". */
  List<String> openFds() {
    return fds.entrySet().stream()
        .map(e -> "fd=" + e.getKey() + " " + e.getValue().link())
        .toList();
  }

  private FakeFile required(Fd fd, String call) {
    var file = fds.get(fd.value());
    if (file == null) {
      throw new NativeException(call + "(" + fd + ")", 9, "EBADF", "Bad file descriptor");
    }
    return file;
  }

  @Override
  public void close(Fd fd) {
    var file = fds.remove(fd.value());
    if (file == null) {
      violations.add("close(" + fd + "), which is not open");
      return;
    }
    for (var poller : pollers) {
      if (!poller.isClosed() && poller.watches(fd)) {
        violations.add("close(" + fd + ") of " + file.link() + " while a poller still watches it");
      }
    }
    if (!fds.containsValue(file)) {
      file.lastClose();
    }
  }

  /** The supervisor is gone (killed, or its image replaced): the kernel closes all it held. */
  private void closeEverything() {
    for (var n : List.copyOf(fds.keySet())) {
      var file = fds.remove(n);
      if (!fds.containsValue(file)) {
        file.lastClose();
      }
    }
    pollers.forEach(FakePoller::close);
  }

  // Os

  @Override
  public int pid() {
    return pid;
  }

  @Override
  public int uid() {
    return UID;
  }

  @Override
  public Fd listen(ListenAddress address, int backlog) {
    if (listenError.isPresent()) {
      throw listenError.get();
    }
    int inode = nextInode++;
    InetSocketAddress local = null;
    if (address instanceof ListenAddress.Tcp tcp) {
      int port = tcp.address().getPort() == 0 ? 40000 + inode : tcp.address().getPort();
      local = new InetSocketAddress(tcp.address().getAddress(), port);
    }
    return open(new FakeSockets.ListenSocket(this, inode, address, local));
  }

  @Override
  public InetSocketAddress localAddress(Fd listener) {
    if (required(listener, "getsockname") instanceof FakeSockets.ListenSocket s
        && s.local != null) {
      return s.local;
    }
    throw new NativeException(
        "getsockname(" + listener + ")", 88, "ENOTSOCK", "not a TCP listener");
  }

  /** What {@link #acceptQueue} answers for every TCP listener not in {@link #queues}. */
  Os.AcceptQueue acceptQueue = new Os.AcceptQueue(0, 4096);

  /** What {@link #acceptQueue} answers for particular listeners. */
  final Map<Fd, Os.AcceptQueue> queues = new HashMap<>();

  @Override
  public Optional<Os.AcceptQueue> acceptQueue(Fd listener) {
    return required(listener, "getsockopt") instanceof FakeSockets.ListenSocket s && s.local != null
        ? Optional.of(queues.getOrDefault(listener, acceptQueue))
        : Optional.empty();
  }

  /** Why steering is unavailable, or empty when {@link #steering} works. */
  Optional<String> steeringUnavailable = Optional.empty();

  /** Every steering made, in order: the listener it was attached to and the one selected. */
  final List<FakeSteering> steerings = new ArrayList<>();

  /** Whether {@link #steering(int)} finds the maps a supervisor before made. */
  boolean mapsReopen = true;

  static final class FakeSteering implements dev.baton.os.Steering {
    private final FakeOs os;
    final int id;
    final boolean reopened;
    @Nullable Fd attachedTo;
    @Nullable Fd selected;
    int selects;
    boolean closed;

    FakeSteering(FakeOs os, int id, boolean reopened) {
      this.os = os;
      this.id = id;
      this.reopened = reopened;
    }

    @Override
    public int id() {
      return id;
    }

    @Override
    public void attach(Fd listener) {
      if (reopened) {
        throw new IllegalStateException("a reopened steering is already attached");
      }
      os.required(listener, "setsockopt");
      attachedTo = listener;
    }

    @Override
    public void select(Fd listener) {
      os.required(listener, "bpf(BPF_MAP_UPDATE_ELEM)");
      selected = listener;
      selects++;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Override
  public Optional<String> steeringUnavailable() {
    return steeringUnavailable;
  }

  @Override
  public dev.baton.os.Steering steering() {
    var steering = new FakeSteering(this, 100 + steerings.size(), false);
    steerings.add(steering);
    return steering;
  }

  @Override
  public Optional<dev.baton.os.Steering> steering(int id) {
    if (!mapsReopen || steerings.stream().noneMatch(s -> s.id == id && !s.reopened)) {
      return Optional.empty();
    }
    var steering = new FakeSteering(this, id, true);
    steerings.add(steering);
    return Optional.of(steering);
  }

  @Override
  public Optional<String> portOwner(int port) {
    return Optional.of("pid 4121 (nginx)");
  }

  @Override
  public ChildProcess spawn(SpawnSpec spec) {
    if (spawnError.isPresent()) {
      throw spawnError.get();
    }
    var held = new ArrayList<FakeFile>();
    spec.stdin().ifPresent(fd -> held.add(required(fd, "spawn")));
    spec.listenFds().forEach(fd -> held.add(required(fd, "spawn")));
    var process = new FakeProcess(this, nextPid++, spec, pid, clock.instant(), held, nextInode);
    nextInode += 2;
    processes.add(process);
    sessions.put(process.pid, session);
    var child = new FakeChild(this, process, reader(process.stdout), reader(process.stderr));
    app.accept(process);
    return child;
  }

  private PipeInput reader(FakePipe pipe) {
    return new FakePipe.Reader(this, open(pipe), pipe);
  }

  @Override
  public Optional<Fd> takeFd(int pid, String link, boolean forReading) {
    fdsAskedFor.add(pid + ":" + link);
    return running(pid)
        .flatMap(
            p ->
                p.held.stream()
                    .filter(f -> f.link().equals(link) && (!forReading || f instanceof FakePipe))
                    .findFirst())
        .map(this::open);
  }

  @Override
  public String link(Fd fd) {
    return required(fd, "readlink").link();
  }

  @Override
  public ChildProcess adopt(int pid, @Nullable Fd stdout, @Nullable Fd stderr) {
    var process =
        processes.stream()
            .filter(p -> p.pid == pid && !p.gone)
            .findFirst()
            .orElseThrow(
                () ->
                    new NativeException("pidfd_open(" + pid + ")", 3, "ESRCH", "No such process"));
    return new FakeChild(this, process, taken(stdout), taken(stderr));
  }

  private PipeInput taken(@Nullable Fd fd) {
    if (fd == null) {
      return PipeInput.empty();
    }
    if (!(required(fd, "adopt") instanceof FakePipe pipe)) {
      throw new IllegalArgumentException(fd + " is no pipe");
    }
    return new FakePipe.Reader(this, fd, pipe);
  }

  @Override
  public OptionalLong startTime(int pid) {
    if (pid == this.pid) {
      return OptionalLong.of(supervisorStartTime);
    }
    if (strangers.containsKey(pid)) {
      return OptionalLong.of(strangers.get(pid).startTime());
    }
    return processes.stream()
        .filter(p -> p.pid == pid && !p.gone)
        .mapToLong(p -> p.startTime)
        .findFirst();
  }

  @Override
  public Optional<ProcessStat> processStat(int pid) {
    if (pid == this.pid) {
      return Optional.of(new ProcessStat(pid, 1, pid, session, UID, supervisorStartTime));
    }
    if (strangers.containsKey(pid)) {
      return Optional.of(strangers.get(pid));
    }
    // Every generation leads its own process group, as Os#spawn makes it.
    return processes.stream()
        .filter(p -> p.pid == pid && !p.gone)
        .findFirst()
        .map(p -> new ProcessStat(p.pid, p.parent, p.pid, sessions.get(p.pid), UID, p.startTime));
  }

  @Override
  public String bootId() {
    return bootId;
  }

  @Override
  public int fileOwner(Path path) {
    return fileOwners.getOrDefault(path.toAbsolutePath(), UID);
  }

  @Override
  public void exec(List<String> argv, Map<String, String> env) {
    if (execError.isPresent()) {
      throw execError.get();
    }
    var execed = new Execed(argv, env);
    execs.add(execed);
    closeEverything(); // every descriptor is close-on-exec
    throw execed;
  }

  /** What {@link #tcpConnections} answers, by process group; absent groups have none to count. */
  final Map<Integer, Integer> tcpConnections = new HashMap<>();

  @Override
  public OptionalInt tcpConnections(int pgid) {
    var count = tcpConnections.get(pgid);
    return count == null ? OptionalInt.empty() : OptionalInt.of(count);
  }

  @Override
  public boolean signalGroup(int pgid, Signal signal) {
    groupSignals.add(pgid + ":" + signal);
    if (processes.stream().anyMatch(p -> p.pid == pgid && p.gone && p.parent == pid)) {
      groupSignalsAfterReap.add(pgid + ":" + signal);
    }
    var leader = running(pgid);
    leader.ifPresent(p -> p.deliver(signal));
    return leader.isPresent();
  }

  @Override
  public NotifySocket openNotifySocket(Path path) {
    if (notifySockets.containsKey(path.toString())) {
      throw new NativeException("bind(" + path + ")", 98, "EADDRINUSE", "Address already in use");
    }
    var socket = new FakeSockets.Notify(this, path);
    notifySockets.put(path.toString(), socket);
    return socket;
  }

  @Override
  public void sendNotify(String address, String message) {
    toSystemd.add(message);
  }

  @Override
  public UnixListener listenUnix(Path path, int mode) {
    if (unixListeners.containsKey(path)) {
      throw new NativeException("bind(" + path + ")", 98, "EADDRINUSE", "Address already in use");
    }
    var listener = new FakeSockets.Listener(this, path, mode);
    unixListeners.put(path, listener);
    return listener;
  }

  @Override
  public UnixConnection connectUnix(Path path) {
    return connect(path, pid, UID);
  }

  @Override
  public Poller poller() {
    var poller = new FakePoller(this);
    pollers.add(poller);
    return poller;
  }

  @Override
  public Map<String, String> environment() {
    return Map.copyOf(environment);
  }

  // What the test does

  /**
   * Connects to the Unix listener at {@code path} as process {@code pid} of user {@code uid}: the
   * supervisor's end waits for acceptNow(), and the caller gets the other end.
   */
  FakeSockets.Connection connect(Path path, int pid, int uid) {
    var listener = unixListeners.get(path);
    if (listener == null) {
      throw new NativeException("connect(" + path + ")", 111, "ECONNREFUSED", "Connection refused");
    }
    var client =
        FakeSockets.Connection.pair(
            this, new PeerCredentials(pid, uid, uid), new PeerCredentials(this.pid, UID, UID));
    listener.queue(client.peer);
    return client;
  }

  /** The supervisor dies (SIGKILL, OOM): its descriptors close, its children go to init. */
  void crashSupervisor() {
    int old = pid;
    closeEverything();
    pid = old + 1;
    session = pid;
    supervisorStartTime += 1000;
    for (var p : processes) {
      if (p.parent == old) {
        p.parent = 1;
        if (p.status.isPresent()) {
          p.gone = true; // a zombie that init reaps at once
        }
      }
    }
  }

  /** Lets every app read and answer what the supervisor said to it; true if any did something. */
  boolean step() {
    boolean acted = false;
    for (var p : List.copyOf(processes)) {
      acted |= p.step();
    }
    return acted;
  }

  /**
   * A probe as the supervisor's HttpProbe would make it: answered by the process holding {@code
   * address}.
   */
  int probe(InetSocketAddress address, String path) {
    for (var p : processes) {
      if (p.status.isEmpty() && p.probeAddress().equals(Optional.of(address))) {
        p.probes.add(path);
        return p.health;
      }
    }
    return -1;
  }

  private Optional<FakeProcess> running(int pid) { // runs, so holds its files
    return processes.stream().filter(p -> p.pid == pid && p.status.isEmpty()).findFirst();
  }

  /** The {@code index}th process spawned, from 0. */
  FakeProcess process(int index) {
    return processes.get(index);
  }

  FakePoller lastPoller() {
    return pollers.getLast();
  }

  static InetSocketAddress loopback(int port) { // 127.0.0.1:port
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
  }
}
