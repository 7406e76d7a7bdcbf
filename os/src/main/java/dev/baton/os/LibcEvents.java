package dev.baton.os;

import static dev.baton.os.Native.NO_ERRNO;
import static dev.baton.os.Native.check;
import static dev.baton.os.Native.checkOr;
import static dev.baton.os.Native.checkUnless;
import static dev.baton.os.Native.errnoCall;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The event loop's system calls: epoll, eventfd, and the calls that must not block. Where a call
 * would block, the wrappers return that as an answer (-1, or -EAGAIN where more than one errno is
 * an answer), never as an exception: an event loop meets EAGAIN all the time.
 */
final class LibcEvents {
  private LibcEvents() {}

  // errno values
  static final int ECHILD = 10;
  static final int EAGAIN = 11;
  static final int EEXIST = 17;
  static final int EPIPE = 32;
  static final int ECONNRESET = 104;

  // fcntl.h, sys/socket.h: O_NONBLOCK, SOCK_NONBLOCK and EFD_NONBLOCK are the same bit.
  static final int F_GETFL = 3;
  static final int F_SETFL = 4;
  static final int O_NONBLOCK = 0x800;
  static final int SOCK_NONBLOCK = O_NONBLOCK;
  static final int MSG_DONTWAIT = 0x40;

  // sys/epoll.h, sys/eventfd.h, poll.h
  static final int EPOLL_CLOEXEC = 0x80000;
  static final int EPOLL_CTL_ADD = 1;
  static final int EPOLL_CTL_DEL = 2;
  static final int EPOLL_CTL_MOD = 3;
  static final int EPOLLIN = 0x001;
  static final int EPOLLOUT = 0x004;
  static final int EPOLLERR = 0x008;
  static final int EPOLLHUP = 0x010;
  static final int EPOLLRDHUP = 0x2000;
  static final int EFD_CLOEXEC = 0x80000;
  static final int EFD_NONBLOCK = O_NONBLOCK;
  static final short POLLIN = 0x001;
  static final short POLLOUT = 0x004;

  // sys/wait.h, signal.h
  static final int P_PIDFD = 3;
  static final int WNOHANG = 1;
  static final int WEXITED = 4;
  static final int CLD_EXITED = 1;

  /**
   * siginfo_t as waitid(2) fills it for a child: si_signo@0, si_errno@4, si_code@8, then the
   * union's _sigchld: si_pid@16, si_uid@20, si_status@24.
   */
  static final long SIGINFO_SIZE = 128;

  static final long SIGINFO_CODE = 8;
  static final long SIGINFO_PID = 16;
  static final long SIGINFO_STATUS = 24;

  /**
   * struct epoll_event. On x86-64 the kernel declares it packed (__EPOLL_PACKED), so data follows
   * events at offset 4 with no padding and the struct is 12 bytes, not 16; a natural layout would
   * shift every event after the first. Other architectures (aarch64) do pad it to 16.
   */
  static final StructLayout EPOLL_EVENT =
      MemoryLayout.structLayout(
          JAVA_INT.withName("events"), JAVA_LONG.withByteAlignment(4).withName("data"));

  private static final ValueLayout.OfLong EPOLL_DATA_LAYOUT = JAVA_LONG.withByteAlignment(4);

  static final long EPOLL_EVENTS = offset(EPOLL_EVENT, "events");
  static final long EPOLL_DATA = offset(EPOLL_EVENT, "data");

  private static long offset(StructLayout layout, String field) {
    return layout.byteOffset(PathElement.groupElement(field));
  }

  private static final MethodHandle EPOLL_CREATE1 = errnoCall("epoll_create1", JAVA_INT, JAVA_INT);
  private static final MethodHandle EPOLL_CTL =
      errnoCall("epoll_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
  private static final MethodHandle EPOLL_WAIT =
      errnoCall("epoll_wait", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
  private static final MethodHandle EVENTFD = errnoCall("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
  private static final MethodHandle WRITE =
      errnoCall("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
  private static final MethodHandle RECV =
      errnoCall("recv", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
  private static final MethodHandle POLL =
      errnoCall("poll", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
  private static final MethodHandle WAITID =
      errnoCall("waitid", JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);

  static int epollCreate(String what) {
    return (int) check(what, e -> (int) EPOLL_CREATE1.invokeExact(e, EPOLL_CLOEXEC));
  }

  /**
   * epoll_ctl ADD or MOD with {@code event}, a scratch EPOLL_EVENT. Returns 0, or -ENOENT (MOD of a
   * descriptor the set no longer holds) or -EEXIST (ADD of one it still holds): the kernel drops a
   * descriptor from the set by itself once its file is closed everywhere.
   */
  static int epollCtl(
      int epfd, int op, int fd, int events, long data, MemorySegment event, String what) {
    event.set(JAVA_INT, EPOLL_EVENTS, events);
    event.set(EPOLL_DATA_LAYOUT, EPOLL_DATA, data);
    return (int)
        checkOr(
            Libc.ENOENT, EEXIST, what, e -> (int) EPOLL_CTL.invokeExact(e, epfd, op, fd, event));
  }

  /** The data of event {@code index} in an array of EPOLL_EVENT. */
  static long epollData(MemorySegment events, int index) {
    return events.get(EPOLL_DATA_LAYOUT, index * EPOLL_EVENT.byteSize() + EPOLL_DATA);
  }

  static int epollEvents(MemorySegment events, int index) {
    return events.get(JAVA_INT, index * EPOLL_EVENT.byteSize() + EPOLL_EVENTS);
  }

  /**
   * epoll_ctl DEL. A descriptor the set no longer holds (ENOENT), or that is already closed
   * (EBADF), is not an error: either way it is out of the set.
   */
  static void epollDel(int epfd, int fd, String what) {
    checkOr(
        Libc.ENOENT,
        Libc.EBADF,
        what,
        e -> (int) EPOLL_CTL.invokeExact(e, epfd, EPOLL_CTL_DEL, fd, MemorySegment.NULL));
  }

  /** epoll_wait: how many events it wrote, or 0 when a signal interrupted it (EINTR). */
  static int epollWait(int epfd, MemorySegment events, int max, int timeout, String what) {
    long n =
        checkOr(
            Libc.EINTR,
            NO_ERRNO,
            what,
            e -> (int) EPOLL_WAIT.invokeExact(e, epfd, events, max, timeout));
    return (int) Math.max(n, 0);
  }

  static int eventfd(int flags, String what) {
    return (int) check(what, e -> (int) EVENTFD.invokeExact(e, 0, flags));
  }

  /** write(2) to a non-blocking descriptor: bytes written, or -1 when it would block. */
  static long writeNow(int fd, MemorySegment buffer, long length, String what) {
    return checkUnless(EAGAIN, what, e -> (long) WRITE.invokeExact(e, fd, buffer, length));
  }

  /** read(2) from a non-blocking descriptor: bytes read, 0 at EOF, or -1 when it would block. */
  static long readNow(int fd, MemorySegment buffer, long length, String what) {
    return checkUnless(EAGAIN, what, e -> (long) Libc.READ.invokeExact(e, fd, buffer, length));
  }

  /** recv(2) with MSG_DONTWAIT: bytes read, 0 at EOF, -EAGAIN, or -ECONNRESET. */
  static long recvNow(int fd, MemorySegment buffer, long length, String what) {
    return checkOr(
        EAGAIN,
        ECONNRESET,
        what,
        e -> (long) RECV.invokeExact(e, fd, buffer, length, MSG_DONTWAIT));
  }

  /**
   * send(2) with {@code flags}: bytes taken, or -1 when the buffer is full. EPIPE and ECONNRESET
   * throw: the peer is gone, and the caller must drop the connection.
   */
  static long sendNow(int fd, MemorySegment buffer, long length, int flags, String what) {
    return checkUnless(
        EAGAIN, what, e -> (long) Libc.SEND.invokeExact(e, fd, buffer, length, flags));
  }

  /** sendmsg(2) with {@code flags}: bytes taken, or -1 when the buffer is full. */
  static long sendmsgNow(int fd, MemorySegment message, int flags, String what) {
    return checkUnless(EAGAIN, what, e -> (long) Libc.SENDMSG.invokeExact(e, fd, message, flags));
  }

  /** recvmsg(2) with {@code flags}: bytes received, or -1 when nothing is queued. */
  static long recvmsgNow(int fd, MemorySegment message, int flags, String what) {
    return checkUnless(EAGAIN, what, e -> (long) Libc.RECVMSG.invokeExact(e, fd, message, flags));
  }

  /**
   * accept4(2) with {@code flags} (SOCK_CLOEXEC, SOCK_NONBLOCK) on a non-blocking listener: the new
   * socket, -EAGAIN when none is queued, or -ECONNABORTED when the one queued gave up.
   */
  static int accept(int fd, int flags, String what) {
    return (int)
        checkOr(
            EAGAIN,
            Libc.ECONNABORTED,
            what,
            e ->
                (int)
                    Libc.ACCEPT4.invokeExact(e, fd, MemorySegment.NULL, MemorySegment.NULL, flags));
  }

  /**
   * Sets O_NONBLOCK on the open file description: every descriptor sharing it, in this process or
   * another, sees it.
   */
  static void setNonBlocking(int fd, String what) {
    int flags = (int) check(what, e -> (int) Libc.FCNTL.invokeExact(e, fd, F_GETFL, 0));
    if ((flags & O_NONBLOCK) == 0) {
      int set = flags | O_NONBLOCK;
      check(what, e -> (int) Libc.FCNTL.invokeExact(e, fd, F_SETFL, set));
    }
  }

  /**
   * poll(2) on one descriptor for {@code events} (POLLIN, POLLOUT), waiting up to {@code timeout}
   * ms (-1: no limit, 0: not at all). Returns the events that came, with POLLHUP and POLLERR, or 0
   * on a timeout.
   */
  static int poll(int fd, short events, int timeout, String what) {
    try (var arena = Arena.ofConfined()) {
      // struct pollfd { int fd; short events; short revents; }
      var pollfd = arena.allocate(8, 4);
      pollfd.set(JAVA_INT, 0, fd);
      pollfd.set(JAVA_SHORT, 4, events);
      long ready = check(what, e -> (int) POLL.invokeExact(e, pollfd, 1L, timeout));
      return ready == 0 ? 0 : pollfd.get(JAVA_SHORT, 6) & 0xffff;
    }
  }

  /**
   * waitid(P_PIDFD, WEXITED | WNOHANG) into {@code siginfo}, whose si_pid must be 0 beforehand: it
   * stays 0 while the process runs. Returns false when the process is not our child (ECHILD).
   */
  static boolean waitidNow(int pidfd, MemorySegment siginfo, String what) {
    return checkUnless(
            ECHILD,
            what,
            e -> (int) WAITID.invokeExact(e, P_PIDFD, pidfd, siginfo, WEXITED | WNOHANG))
        != -1;
  }
}
