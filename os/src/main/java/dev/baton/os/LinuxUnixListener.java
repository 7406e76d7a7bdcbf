package dev.baton.os;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A listening AF_UNIX stream socket; {@link #close()} wakes a blocked accept and removes the file.
 *
 * <p>The socket is non-blocking from the start, for {@link #acceptNow()}; the blocking {@link
 * #accept()} waits in poll(2) instead, which close()'s shutdown wakes just as it woke accept4.
 */
final class LinuxUnixListener implements UnixListener {

  private final Path path;
  private final SharedFd fd;

  LinuxUnixListener(Path path, int fd) {
    try {
      LibcEvents.setNonBlocking(fd, "fcntl(unix:" + path + ", F_SETFL, O_NONBLOCK)");
    } catch (RuntimeException e) {
      Libc.close(fd);
      throw e;
    }
    this.path = path;
    this.fd = new SharedFd(fd);
  }

  /**
   * Sets the mode of a Unix socket that is not bound yet: on Linux bind(2) creates the file with
   * the socket's own mode less the umask, so the file is never wider than {@code mode}, not even
   * between bind and listen, and no chmod by path is needed. A chmod by path follows a symlink: if
   * the socket's directory is writable by someone else, they can swap the new socket for a link
   * between bind and chmod, and the supervisor would change the mode of the link's target instead.
   */
  static void restrictBeforeBind(int fd, int mode, Path path) {
    Libc.fchmod(fd, mode, "fchmod(unix:" + path + ", 0" + Integer.toOctalString(mode) + ")");
  }

  @Override
  public Path path() {
    return path;
  }

  /**
   * Blocks in poll(2) until a connection is queued, then takes it with accept4(2); the connection
   * is a blocking one. Blocking in native code pins a virtual thread's carrier, so call this from a
   * platform thread.
   */
  @Override
  public Optional<UnixConnection> accept() {
    while (true) {
      // Empty once closed: close() shuts the socket down, and accept4 then fails with EINVAL.
      var connection = fd.whileOpen(this::acceptOrWait);
      if (connection.isEmpty()) {
        return Optional.empty();
      }
      if (connection.get() >= 0) {
        return Optional.of(connection(connection.get()));
      }
      // EAGAIN, now readable; or ECONNABORTED: the client gave up while queued. Either way, again.
    }
  }

  /** A blocking connection, or -EAGAIN once one may be queued, or -ECONNABORTED. */
  private int acceptOrWait(int n) {
    int connection = LibcEvents.accept(n, Libc.SOCK_CLOEXEC, "accept4(" + path + ")");
    if (connection == -LibcEvents.EAGAIN) {
      LibcEvents.poll(n, LibcEvents.POLLIN, -1, "poll(" + path + ")");
    }
    return connection;
  }

  /**
   * {@inheritDoc}
   *
   * <p>The connection is non-blocking, but its blocking calls still work: they wait in poll(2).
   */
  @Override
  public Optional<UnixConnection> acceptNow() {
    while (true) {
      var connection =
          fd.whileHeld(
              n ->
                  LibcEvents.accept(
                      n,
                      Libc.SOCK_CLOEXEC | LibcEvents.SOCK_NONBLOCK,
                      "accept4(" + path + ", SOCK_NONBLOCK)"));
      if (connection.isEmpty() || connection.get() == -LibcEvents.EAGAIN) {
        return Optional.empty();
      }
      if (connection.get() >= 0) {
        return Optional.of(connection(connection.get()));
      }
      // ECONNABORTED: the client gave up while queued; the next one may be there.
    }
  }

  private static UnixConnection connection(int connection) {
    try {
      return new LinuxUnixConnection(connection);
    } catch (RuntimeException e) {
      Libc.close(connection);
      throw e;
    }
  }

  @Override
  public void close() {
    fd.shutdownAndClose();
    LinuxOs.removeSocketFile(path, "the socket file");
  }

  @Override
  public String toString() {
    return "unix listener " + path;
  }

  @Override
  public Fd fd() {
    return fd.currentFd(this);
  }
}
