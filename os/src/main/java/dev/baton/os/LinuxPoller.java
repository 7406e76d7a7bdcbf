package dev.baton.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An epoll set, level-triggered, with an eventfd in it for {@link #wakeup()}.
 *
 * <p>Each registration carries the descriptor's number as its epoll data, and the tokens live here,
 * indexed by that number. The number is what tells the eventfd apart from the caller's descriptors
 * (a token could be any long), and looking the token up at poll time means a poll never reports a
 * token that {@link #watch} has since replaced.
 *
 * <p>Interest 0 takes the descriptor out of the kernel's set while it stays registered here: epoll
 * reports EPOLLHUP and EPOLLERR whatever the interest, so a hung-up pipe left in the set with no
 * interest would make every poll return at once, and the loop would spin.
 */
final class LinuxPoller implements Poller {
  /** Events one poll can report; the rest wait for the next, in the kernel's round-robin order. */
  private static final int CAPACITY = 256;

  private static final int UNWATCHED = -1;

  /**
   * The eventfd's increment. Auto arenas here and below: {@link #wakeup()} may be in a downcall
   * with this segment on another thread when the poller is closed, and freeing memory a downcall
   * holds fails, so the garbage collector frees it once nothing can use it.
   */
  private static final MemorySegment ONE = Arena.ofAuto().allocateFrom(ValueLayout.JAVA_LONG, 1L);

  private final int epfd;
  private final int wakeFd;

  /** The eventfd again, for {@link #wakeup()}: never written after close, even mid-close. */
  private final SharedFd wake;

  private final AtomicBoolean wakePending = new AtomicBoolean();
  private final MemorySegment events;
  private final MemorySegment scratchEvent;
  private final MemorySegment drained;

  // Loop thread only: by descriptor number, the interest (UNWATCHED when not registered) and token.
  private int[] interest = new int[64];
  private long[] tokens = new long[64];
  private boolean closed;

  LinuxPoller() {
    Arrays.fill(interest, UNWATCHED);
    var arena = Arena.ofAuto();
    events = arena.allocate(LibcEvents.EPOLL_EVENT, CAPACITY);
    scratchEvent = arena.allocate(LibcEvents.EPOLL_EVENT);
    drained = arena.allocate(ValueLayout.JAVA_LONG);
    epfd = LibcEvents.epollCreate("epoll_create1(EPOLL_CLOEXEC)");
    int eventfd;
    try {
      eventfd =
          LibcEvents.eventfd(
              LibcEvents.EFD_CLOEXEC | LibcEvents.EFD_NONBLOCK,
              "eventfd(EFD_CLOEXEC|EFD_NONBLOCK)");
    } catch (RuntimeException e) {
      Libc.close(epfd);
      throw e;
    }
    wakeFd = eventfd;
    wake = new SharedFd(eventfd);
    try {
      ctl(LibcEvents.EPOLL_CTL_ADD, eventfd, LibcEvents.EPOLLIN, eventfd);
    } catch (RuntimeException e) {
      wake.close();
      Libc.close(epfd);
      throw e;
    }
  }

  @Override
  public void watch(Fd fd, int interest, long token) {
    requireOpen();
    if ((interest & ~(READABLE | WRITABLE)) != 0) {
      throw new IllegalArgumentException(
          "interest must combine Poller.READABLE and Poller.WRITABLE, not " + interest);
    }
    int n = fd.value();
    if (n == epfd || n == wakeFd) {
      throw new IllegalArgumentException(fd + " is this poller's own descriptor");
    }
    boolean inSet = n < this.interest.length && this.interest[n] > 0;
    if (interest == 0) {
      if (inSet) {
        LibcEvents.epollDel(epfd, n, "epoll_ctl(DEL, " + fd + ")");
      }
    } else {
      int events = epollEvents(interest);
      if (!inSet || ctl(LibcEvents.EPOLL_CTL_MOD, n, events, n) == -Libc.ENOENT) {
        // Not in the set, or the kernel dropped it: this number is a file closed and reopened.
        if (ctl(LibcEvents.EPOLL_CTL_ADD, n, events, n) == -LibcEvents.EEXIST) {
          ctl(LibcEvents.EPOLL_CTL_MOD, n, events, n); // registered once before, never unwatched
        }
      }
    }
    grow(n); // only now: a number epoll refused must not size the tables
    this.interest[n] = interest;
    this.tokens[n] = token;
  }

  @Override
  public void unwatch(Fd fd) {
    requireOpen();
    int n = fd.value();
    if (n >= interest.length || interest[n] == UNWATCHED) {
      return;
    }
    if (interest[n] > 0) {
      LibcEvents.epollDel(epfd, n, "epoll_ctl(DEL, " + fd + ")");
    }
    interest[n] = UNWATCHED;
  }

  @Override
  public int poll(long[] tokens, int[] events, long timeoutMillis) {
    requireOpen();
    if (timeoutMillis < -1) {
      throw new IllegalArgumentException(
          "timeout must be -1 (no limit) or at least 0 ms, not " + timeoutMillis);
    }
    int room = Math.min(Math.min(tokens.length, events.length), CAPACITY);
    if (room == 0) {
      throw new IllegalArgumentException("poll needs room for at least one event");
    }
    int timeout = (int) Math.min(timeoutMillis, Integer.MAX_VALUE);
    int ready =
        LibcEvents.epollWait(epfd, this.events, room, timeout, "epoll_wait(epoll fd=" + epfd + ")");
    int count = 0;
    for (int i = 0; i < ready; i++) {
      int n = (int) LibcEvents.epollData(this.events, i);
      if (n == wakeFd) {
        drainWakeups();
        continue;
      }
      if (n >= interest.length || interest[n] <= 0) {
        continue; // cannot happen between two calls on one thread; a stale event is dropped
      }
      tokens[count] = this.tokens[n];
      events[count] = readiness(LibcEvents.epollEvents(this.events, i));
      count++;
    }
    return count;
  }

  /**
   * Wakes a poll with one write to the eventfd; while that write is pending, further calls do
   * nothing. The loop reads the eventfd before it clears the flag, so a call that finds the flag
   * set came before the loop returned from poll and its work is seen.
   */
  @Override
  public void wakeup() {
    if (!wakePending.compareAndSet(false, true)) {
      return;
    }
    int fd = wake.acquire();
    if (fd < 0) {
      return; // closed: there is no poll to wake
    }
    try {
      // -1 (EAGAIN) means the counter is full: a wake-up is pending anyway.
      LibcEvents.writeNow(fd, ONE, ONE.byteSize(), "write(eventfd fd=" + fd + ")");
    } finally {
      wake.release();
    }
  }

  private void drainWakeups() {
    LibcEvents.readNow(wakeFd, drained, drained.byteSize(), "read(eventfd fd=" + wakeFd + ")");
    wakePending.set(false);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    wake.close();
    Libc.close(epfd);
  }

  /** epoll_ctl ADD or MOD; returns 0, -ENOENT or -EEXIST (see {@link LibcEvents#epollCtl}). */
  private int ctl(int op, int fd, int events, long data) {
    String name = op == LibcEvents.EPOLL_CTL_ADD ? "ADD" : "MOD";
    return LibcEvents.epollCtl(
        epfd, op, fd, events, data, scratchEvent, "epoll_ctl(" + name + ", fd=" + fd + ")");
  }

  private static int epollEvents(int interest) {
    int events = 0;
    if ((interest & READABLE) != 0) {
      events |= LibcEvents.EPOLLIN;
    }
    if ((interest & WRITABLE) != 0) {
      events |= LibcEvents.EPOLLOUT;
    }
    return events;
  }

  /** A hang-up or an error is both: whichever call the handler makes next meets it. */
  private static int readiness(int epollEvents) {
    int ready = 0;
    if ((epollEvents & (LibcEvents.EPOLLIN | LibcEvents.EPOLLRDHUP)) != 0) {
      ready |= READABLE;
    }
    if ((epollEvents & LibcEvents.EPOLLOUT) != 0) {
      ready |= WRITABLE;
    }
    if ((epollEvents & (LibcEvents.EPOLLHUP | LibcEvents.EPOLLERR)) != 0) {
      ready |= READABLE | WRITABLE;
    }
    return ready;
  }

  private void grow(int fd) {
    if (fd < interest.length) {
      return;
    }
    int length = Math.max(fd + 1, interest.length * 2);
    int old = interest.length;
    interest = Arrays.copyOf(interest, length);
    Arrays.fill(interest, old, length, UNWATCHED);
    tokens = Arrays.copyOf(tokens, length);
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("poller (epoll fd=" + epfd + ") is closed");
    }
  }

  @Override
  public String toString() {
    return "poller (epoll fd=" + epfd + ")";
  }
}
