package dev.baton.os;

import static dev.baton.os.Native.check;
import static dev.baton.os.Native.checkOr;
import static dev.baton.os.Native.checkUnless;
import static dev.baton.os.Native.errnoCall;
import static dev.baton.os.Native.invoke;
import static dev.baton.os.Native.plainCall;
import static dev.baton.os.Native.variadicErrnoCall;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * The glibc functions baton calls, as FFM downcall handles, with typed wrappers that turn a failed
 * call into a {@link NativeException} naming the call and its errno. Constants and sizes are those
 * of Linux x86-64 with glibc. posix_spawn's family is in {@link LibcSpawn}, the event loop's calls
 * (epoll, eventfd, and the non-blocking ones) in {@link LibcEvents}.
 *
 * <p>Every wrapper retries on EINTR: a signal aimed at the JVM must never fail a baton operation.
 * close(2) is the exception, because Linux releases the descriptor even when it reports EINTR.
 */
final class Libc {
  private Libc() {}

  // errno values (asm-generic/errno-base.h, errno.h).
  static final int ENOENT = 2;
  static final int ESRCH = 3;
  static final int EINTR = 4;
  static final int EBADF = 9;
  static final int EADDRINUSE = 98;
  static final int ECONNABORTED = 103;
  static final int ECONNREFUSED = 111;

  // sys/socket.h, netinet/in.h
  static final int AF_UNIX = 1;
  static final int AF_INET = 2;
  static final int AF_INET6 = 10;
  static final int SOCK_STREAM = 1;
  static final int SOCK_DGRAM = 2;
  static final int SOCK_CLOEXEC = 0x80000;
  static final int SOL_SOCKET = 1;
  static final int IPPROTO_TCP = 6;
  static final int SO_REUSEADDR = 2;
  static final int SO_REUSEPORT = 15;
  static final int SO_PASSCRED = 16;
  static final int SO_PEERCRED = 17;
  static final int SCM_RIGHTS = 1;
  static final int SCM_CREDENTIALS = 2;
  static final int MSG_NOSIGNAL = 0x4000;
  static final int MSG_CMSG_CLOEXEC = 0x40000000;
  static final int SHUT_WR = 1;
  static final int SHUT_RDWR = 2;

  // fcntl.h
  static final int O_RDONLY = 0;
  static final int O_CLOEXEC = 0x80000;
  static final int F_DUPFD_CLOEXEC = 1030;

  /** struct iovec. */
  static final StructLayout IOVEC =
      MemoryLayout.structLayout(ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len"));

  /** struct msghdr: note the padding after msg_namelen, which aligns msg_iov to 8. */
  static final StructLayout MSGHDR =
      MemoryLayout.structLayout(
          ADDRESS.withName("msg_name"),
          JAVA_INT.withName("msg_namelen"),
          MemoryLayout.paddingLayout(4),
          ADDRESS.withName("msg_iov"),
          JAVA_LONG.withName("msg_iovlen"),
          ADDRESS.withName("msg_control"),
          JAVA_LONG.withName("msg_controllen"),
          JAVA_INT.withName("msg_flags"),
          MemoryLayout.paddingLayout(4));

  static final long MSG_IOV = offset(MSGHDR, "msg_iov");
  static final long MSG_IOVLEN = offset(MSGHDR, "msg_iovlen");
  static final long MSG_CONTROL = offset(MSGHDR, "msg_control");
  static final long MSG_CONTROLLEN = offset(MSGHDR, "msg_controllen");

  /** struct cmsghdr: cmsg_len is a size_t, so the data starts at 16 and everything aligns to 8. */
  static final StructLayout CMSGHDR =
      MemoryLayout.structLayout(
          JAVA_LONG.withName("cmsg_len"),
          JAVA_INT.withName("cmsg_level"),
          JAVA_INT.withName("cmsg_type"));

  static final long CMSG_LEVEL = offset(CMSGHDR, "cmsg_level");
  static final long CMSG_TYPE = offset(CMSGHDR, "cmsg_type");

  /** CMSG_ALIGN: control messages are padded to the size of size_t. */
  static long cmsgAlign(long length) {
    return (length + 7) & ~7L;
  }

  /** CMSG_LEN: the cmsg_len of a message carrying {@code data} bytes. */
  static long cmsgLen(long data) {
    return cmsgAlign(CMSGHDR.byteSize()) + data;
  }

  /** CMSG_SPACE: the room a message carrying {@code data} bytes takes in the control buffer. */
  static long cmsgSpace(long data) {
    return cmsgAlign(CMSGHDR.byteSize()) + cmsgAlign(data);
  }

  /** struct ucred, in SCM_CREDENTIALS and SO_PEERCRED. */
  static final StructLayout UCRED =
      MemoryLayout.structLayout(
          JAVA_INT.withName("pid"), JAVA_INT.withName("uid"), JAVA_INT.withName("gid"));

  private static long offset(StructLayout layout, String field) {
    return layout.byteOffset(PathElement.groupElement(field));
  }

  // ---- Downcall handles -------------------------------------------------------------------
  // Those without "private" are shared with LibcEvents, which makes the non-blocking calls.

  private static final MethodHandle SOCKET =
      errnoCall("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle SETSOCKOPT =
      errnoCall("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle GETSOCKOPT =
      errnoCall("getsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
  private static final MethodHandle BIND = errnoCall("bind", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle LISTEN = errnoCall("listen", JAVA_INT, JAVA_INT, JAVA_INT);
  static final MethodHandle ACCEPT4 =
      errnoCall("accept4", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
  private static final MethodHandle CONNECT =
      errnoCall("connect", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle GETSOCKNAME =
      errnoCall("getsockname", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
  private static final MethodHandle SHUTDOWN = errnoCall("shutdown", JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle CLOSE = errnoCall("close", JAVA_INT, JAVA_INT);
  static final MethodHandle READ = errnoCall("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
  static final MethodHandle SEND =
      errnoCall("send", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
  private static final MethodHandle SENDTO =
      errnoCall("sendto", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
  static final MethodHandle SENDMSG = errnoCall("sendmsg", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
  static final MethodHandle RECVMSG = errnoCall("recvmsg", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle PIPE2 = errnoCall("pipe2", JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle FCHMOD = errnoCall("fchmod", JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle KILL = errnoCall("kill", JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle PIDFD_OPEN =
      errnoCall("pidfd_open", JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle PIDFD_SEND_SIGNAL =
      errnoCall("pidfd_send_signal", JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
  private static final MethodHandle PIDFD_GETFD =
      errnoCall("pidfd_getfd", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle CLOSE_RANGE =
      errnoCall("close_range", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle EXECVE =
      errnoCall("execve", JAVA_INT, ADDRESS, ADDRESS, ADDRESS);

  /** fcntl is variadic: the third argument must be passed as a variadic one. */
  static final MethodHandle FCNTL =
      variadicErrnoCall("fcntl", 2, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);

  private static final MethodHandle GETPID = plainCall("getpid", JAVA_INT);
  private static final MethodHandle GETUID = plainCall("getuid", JAVA_INT);

  // ---- Typed wrappers ---------------------------------------------------------------------

  static int getpid() {
    return invoke(() -> (int) GETPID.invokeExact());
  }

  static int getuid() {
    return invoke(() -> (int) GETUID.invokeExact());
  }

  static int socket(int domain, int type, String what) {
    return (int) check(what, e -> (int) SOCKET.invokeExact(e, domain, type, 0));
  }

  static void setsockopt(int fd, int level, int option, int value, String what) {
    try (var arena = Arena.ofConfined()) {
      var v = arena.allocateFrom(JAVA_INT, value);
      check(
          what,
          e -> (int) SETSOCKOPT.invokeExact(e, fd, level, option, v, (int) JAVA_INT.byteSize()));
    }
  }

  /** getsockopt into {@code value}, whose size is the option's. */
  static void getsockopt(int fd, int level, int option, MemorySegment value, String what) {
    try (var arena = Arena.ofConfined()) {
      var length = arena.allocateFrom(JAVA_INT, (int) value.byteSize());
      check(what, e -> (int) GETSOCKOPT.invokeExact(e, fd, level, option, value, length));
    }
  }

  static void bind(int fd, MemorySegment address, String what) {
    check(what, e -> (int) BIND.invokeExact(e, fd, address, (int) address.byteSize()));
  }

  static void listen(int fd, int backlog, String what) {
    check(what, e -> (int) LISTEN.invokeExact(e, fd, backlog));
  }

  static int accept4(int fd, int flags, String what) {
    return (int)
        check(
            what,
            e -> (int) ACCEPT4.invokeExact(e, fd, MemorySegment.NULL, MemorySegment.NULL, flags));
  }

  static void connect(int fd, MemorySegment address, String what) {
    check(what, e -> (int) CONNECT.invokeExact(e, fd, address, (int) address.byteSize()));
  }

  /** getsockname into {@code address}; returns the length the kernel wrote. */
  static int getsockname(int fd, MemorySegment address, String what) {
    try (var arena = Arena.ofConfined()) {
      var length = arena.allocateFrom(JAVA_INT, (int) address.byteSize());
      check(what, e -> (int) GETSOCKNAME.invokeExact(e, fd, address, length));
      return length.get(JAVA_INT, 0);
    }
  }

  static void shutdown(int fd, int how, String what) {
    check(what, e -> (int) SHUTDOWN.invokeExact(e, fd, how));
  }

  /** close(2), never retried: on Linux the descriptor is gone even when close reports EINTR. */
  static void close(int fd) {
    checkOr(EINTR, Native.NO_ERRNO, "close(fd=" + fd + ")", e -> (int) CLOSE.invokeExact(e, fd));
  }

  static long sendto(int fd, MemorySegment buffer, int flags, MemorySegment address, String what) {
    return check(
        what,
        e ->
            (long)
                SENDTO.invokeExact(
                    e, fd, buffer, buffer.byteSize(), flags, address, (int) address.byteSize()));
  }

  /** pipe2(O_CLOEXEC): returns {read end, write end}. */
  static int[] pipe(String what) {
    try (var arena = Arena.ofConfined()) {
      var fds = arena.allocate(JAVA_INT, 2);
      check(what, e -> (int) PIPE2.invokeExact(e, fds, O_CLOEXEC));
      return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
    }
  }

  /** fcntl(F_DUPFD_CLOEXEC): a close-on-exec copy of {@code fd} numbered {@code min} or higher. */
  static int dupCloexec(int fd, int min, String what) {
    return (int) check(what, e -> (int) FCNTL.invokeExact(e, fd, F_DUPFD_CLOEXEC, min));
  }

  static void fchmod(int fd, int mode, String what) {
    check(what, e -> (int) FCHMOD.invokeExact(e, fd, mode));
  }

  /** kill(2); false when no such process (group) exists. */
  static boolean kill(int pid, int signal, String what) {
    return checkUnless(ESRCH, what, e -> (int) KILL.invokeExact(e, pid, signal)) != -1;
  }

  static int pidfdOpen(int pid, String what) {
    return (int) check(what, e -> (int) PIDFD_OPEN.invokeExact(e, pid, 0));
  }

  /** pidfd_send_signal(2); false when the process has already exited. */
  static boolean pidfdSendSignal(int pidfd, int signal, String what) {
    return checkUnless(
            ESRCH,
            what,
            e -> (int) PIDFD_SEND_SIGNAL.invokeExact(e, pidfd, signal, MemorySegment.NULL, 0))
        != -1;
  }

  /**
   * pidfd_getfd(2): a duplicate, close-on-exec, of descriptor {@code fd} of the pidfd's process.
   */
  static int pidfdGetfd(int pidfd, int fd, String what) {
    return (int) check(what, e -> (int) PIDFD_GETFD.invokeExact(e, pidfd, fd, 0));
  }

  /** close_range(first, ~0, CLOSE_RANGE_CLOEXEC): every descriptor from {@code first} up. */
  static void closeOnExecFrom(int first, String what) {
    check(what, e -> (int) CLOSE_RANGE.invokeExact(e, first, -1, 4));
  }

  /** execve(2): returns only by throwing. */
  static void execve(MemorySegment path, MemorySegment argv, MemorySegment envp, String what) {
    check(what, e -> (int) EXECVE.invokeExact(e, path, argv, envp));
  }
}
