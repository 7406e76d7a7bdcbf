package dev.baton.os;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Every system call baton makes. The supervisor sees the operating system only through this seam,
 * so its deploy logic runs unchanged against a fake in unit tests and against Linux for real.
 *
 * <p>All descriptors this interface creates are close-on-exec: nothing leaks into a generation
 * unless {@link SpawnSpec} names it.
 */
public interface Os {

  /** The real operating system, through the FFM API. */
  static Os linux() {
    return LinuxOs.instance();
  }

  /** This process's pid. */
  int pid();

  /** This process's real uid. */
  int uid();

  /** Binds and listens. The socket stays open until {@link #close(Fd)}; callers own it. */
  Fd listen(ListenAddress address, int backlog);

  /** The address a TCP listener is bound to, with the port the kernel chose for port 0. */
  InetSocketAddress localAddress(Fd listener);

  /**
   * A TCP listener's accept queue: connections the kernel completed that no process has accepted
   * yet, and the most it holds (the backlog as the kernel capped it).
   */
  record AcceptQueue(int length, int max) {}

  /** {@code listener}'s accept queue, from TCP_INFO; empty for a socket that is not TCP. */
  Optional<AcceptQueue> acceptQueue(Fd listener);

  /**
   * Why this process cannot steer a SO_REUSEPORT group with BPF, or empty when it can (root, or
   * CAP_BPF and CAP_NET_ADMIN). Probed once: loads the program and creates the map, then closes
   * both.
   *
   * <p>A fake that does not steer need not say more than the default does.
   */
  default Optional<String> steeringUnavailable() {
    return Optional.of("this Os does not steer SO_REUSEPORT groups");
  }

  /**
   * A new map and program; see {@link Steering}. Throws NativeException naming the call when bpf()
   * refuses.
   */
  default Steering steering() {
    throw new UnsupportedOperationException("this Os does not steer SO_REUSEPORT groups");
  }

  /**
   * Takes back the map of a steering that an earlier supervisor made, by its {@link Steering#id}:
   * when that supervisor was killed, its descriptors went with it, but the program it attached
   * still steers its group from this map, to the listener it last selected. Selecting through the
   * map reopened, the new supervisor goes on where the old one stopped, with no moment of hash
   * spreading between: a new steering, {@link Steering#attach attached} in the old one's place,
   * would have its {@link Steering#select} of a listener the old map holds wait until the kernel
   * frees that map, with the kernel's hash spreading new connections meanwhile, to paused
   * generations too.
   *
   * <p>The steering returned has no program: {@link Steering#attach} throws on it.
   *
   * @return empty when no map has that id (its program is gone, with the group or replaced, and its
   *     last descriptor closed), or when the map that has it is not one of baton's steering maps
   * @throws NativeException naming the call when bpf() refuses otherwise: EPERM without
   *     CAP_SYS_ADMIN, which this call needs and {@link #steering()} does not
   */
  default Optional<Steering> steering(int id) {
    return Optional.empty();
  }

  /** Who holds a TCP port in LISTEN state, as "pid 4121 (nginx)", when /proc tells. */
  Optional<String> portOwner(int port);

  void close(Fd fd);

  /**
   * Starts a process in a process group of its own (its pgid is its pid) inside this process's
   * session, with an empty signal mask and default dispositions, the chosen descriptors at 0 and
   * 3.., and every other descriptor closed.
   *
   * <p>Why a process group and not a session: with kernel.sched_autogroup_enabled=1 (the default
   * wherever the kernel is built with autogroups), the CPU scheduler shares time between sessions
   * first and processes second. A generation leading a session of its own was a scheduling group of
   * its own, and under contention drew a full share beside the supervisor's session and every other
   * one on the machine: two generations during a deploy, two extra shares. In the supervisor's
   * session, the supervisor and all its generations share one group, as the processes of one
   * systemd service share its cgroup. The process group keeps what the session gave: kill(-pgid) (a
   * drain's SIGKILL, the final cleanup) still reaches the generation's whole tree, and since the
   * group is not the terminal's foreground group, Ctrl-C on {@code baton run} reaches only the
   * supervisor, which then stops its generations itself.
   *
   * @throws NativeException when the process cannot be started (ENOENT for a missing command)
   */
  ChildProcess spawn(SpawnSpec spec);

  /**
   * A duplicate (pidfd_getfd) of the first descriptor of process {@code pid} whose /proc link reads
   * {@code link}, e.g. "socket:[123]"; with {@code forReading}, only one open for reading (a pipe's
   * read end). This is how a restarted supervisor takes its listeners and the generations' output
   * pipes back: by identity, because an app may have moved them to other numbers.
   */
  Optional<Fd> takeFd(int pid, String link, boolean forReading);

  /** What one of our descriptors is, as /proc names it: "socket:[123]", "pipe:[456]". */
  String link(Fd fd);

  /**
   * Holds a running process that an earlier supervisor spawned, with the read ends of its stdout
   * and stderr pipes, taken from it (null where the app closed them: then that stream reads as
   * empty). Its exit is seen through a pidfd; its status is unknown unless it is this process's
   * child.
   */
  ChildProcess adopt(int pid, @Nullable Fd stdout, @Nullable Fd stderr);

  /** When the process started, in clock ticks since boot: tells a pid from a recycled one. */
  java.util.OptionalLong startTime(int pid);

  /**
   * Replaces this process's image, keeping its pid and its children (execve). Returns only by
   * throwing.
   */
  void exec(java.util.List<String> argv, java.util.Map<String, String> env);

  /**
   * Who a process's parent, group, session and owner are, and when it started; empty when it is
   * gone. A restarted supervisor checks with it that a pid its state journal names is a generation
   * it started before trusting it with a signal or a pidfd_getfd.
   */
  default java.util.Optional<ProcessStat> processStat(int pid) {
    return Proc.stat(pid);
  }

  /** /proc/sys/kernel/random/boot_id: a state journal from another boot names no live process. */
  default String bootId() {
    return Proc.bootId();
  }

  /**
   * The uid owning {@code path}, not following a symlink: a state journal is trusted only when this
   * supervisor's uid (or root) owns it and its directory.
   */
  default int fileOwner(Path path) throws java.io.IOException {
    return Proc.owner(path);
  }

  /**
   * How many established TCP connections (IPv4 and IPv6) process {@code pgid} and the processes of
   * the group it leads hold: their socket descriptors, from /proc/PID/fd, matched by inode against
   * the ESTABLISHED (state 01) entries of the leader's /proc/PID/net/tcp and tcp6. A socket two of
   * them share counts once. Processes this one may not inspect are skipped, so the count can be
   * short for another user's processes; it is a moment's snapshot, for a log line.
   *
   * @return empty when the leader's descriptors or TCP tables cannot be read (it is gone)
   */
  default java.util.OptionalInt tcpConnections(int pgid) {
    return Proc.tcpConnections(pgid);
  }

  /** kill(-pgid, signal): signals a whole process group. Returns false when none was left. */
  boolean signalGroup(int pgid, Signal signal);

  /**
   * An AF_UNIX datagram socket with SO_PASSCRED, for systemd's sd_notify protocol. A path spelled
   * "@name" binds in the abstract namespace, as NOTIFY_SOCKET allows.
   */
  NotifySocket openNotifySocket(Path path);

  /**
   * Sends one sd_notify datagram to {@code address}: a path, or "@name" for the abstract namespace.
   */
  void sendNotify(String address, String message);

  /**
   * A Unix stream listener whose file is created with {@code mode} (e.g. 0600) less the umask,
   * never wider.
   */
  UnixListener listenUnix(Path path, int mode);

  UnixConnection connectUnix(Path path);

  /** A new epoll set for an event loop. */
  Poller poller();

  /** This process's environment, as it was when the process started. */
  java.util.Map<String, String> environment();
}
