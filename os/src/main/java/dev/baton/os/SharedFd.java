package dev.baton.os;

import java.util.Optional;
import java.util.function.IntFunction;

/**
 * A descriptor that one thread may close while others are blocked in calls on it.
 *
 * <p>The invariant: the number is given back to the kernel only once no call is using it. Otherwise
 * a call that was about to start could run on a recycled number that by then belongs to some other
 * file. Calls bracket their use with {@link #acquire()} and {@link #release()}; {@link #close()}
 * marks the descriptor closed and the last user closes it. For sockets, {@link #shutdownAndClose()}
 * first shuts the socket down, which on Linux makes blocked accept(2) and recvmsg(2) return at
 * once.
 */
final class SharedFd {
  private final int fd;

  // All guarded by this.
  private int users;
  private boolean closed;
  private boolean released;

  SharedFd(int fd) {
    this.fd = fd;
  }

  /** The descriptor, held until {@link #release()}; -1 once closed. */
  synchronized int acquire() {
    if (closed) {
      return -1;
    }
    users++;
    return fd;
  }

  void release() {
    boolean last;
    synchronized (this) {
      users--;
      last = releaseIfUnusedLocked();
    }
    if (last) {
      Libc.close(fd);
    }
  }

  /**
   * The descriptor without holding it, for registering with a poller; -1 once closed. Only the
   * thread that will close it may rely on the number staying valid.
   */
  synchronized int current() {
    return closed ? -1 : fd;
  }

  synchronized boolean isClosed() {
    return closed;
  }

  /**
   * The descriptor as an {@link Fd} for registering with a poller, as {@link #current()} says;
   * {@code owner} names it in the exception once it is closed.
   */
  Fd currentFd(Object owner) {
    int n = current();
    if (n < 0) {
      throw new IllegalStateException(owner + " is closed");
    }
    return new Fd(n);
  }

  /**
   * Runs {@code call} on the descriptor, held until it returns; empty once closed. {@code call}
   * must not return null.
   */
  <T> Optional<T> whileHeld(IntFunction<T> call) {
    int n = acquire();
    if (n < 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(call.apply(n));
    } finally {
      release();
    }
  }

  /**
   * As {@link #whileHeld}, for a blocking call on a socket: a call that fails once the socket is
   * closed failed because {@link #shutdownAndClose()} woke it, and is empty too.
   */
  <T> Optional<T> whileOpen(IntFunction<T> call) {
    try {
      return whileHeld(call);
    } catch (NativeException e) {
      if (isClosed()) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** Closes now, or when the last call in progress returns. Idempotent. */
  void close() {
    boolean now;
    synchronized (this) {
      closed = true;
      now = releaseIfUnusedLocked();
    }
    if (now) {
      Libc.close(fd);
    }
  }

  /** For sockets: wakes every call blocked on it, then closes as {@link #close()} does. */
  void shutdownAndClose() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (users > 0) {
        try {
          Libc.shutdown(fd, Libc.SHUT_RDWR, "shutdown(fd=" + fd + ")");
        } catch (NativeException e) {
          // ENOTCONN on a socket that never connected: nothing to wake, nothing to do.
        }
      }
    }
    close();
  }

  private boolean releaseIfUnusedLocked() {
    if (closed && users == 0 && !released) {
      released = true;
      return true;
    }
    return false;
  }

  @Override
  public String toString() {
    return "fd=" + fd;
  }
}
