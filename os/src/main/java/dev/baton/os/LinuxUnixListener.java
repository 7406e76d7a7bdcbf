package dev.baton.os;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A listening AF_UNIX stream socket; {@link #close()} wakes a blocked accept and removes the file.
 */
final class LinuxUnixListener implements UnixListener {
  private final Path path;
  private final SharedFd fd;

  LinuxUnixListener(Path path, int fd) {
    this.path = path;
    this.fd = new SharedFd(fd);
  }

  @Override
  public Path path() {
    return path;
  }

  /**
   * Blocks in accept4(2). Blocking in native code pins a virtual thread's carrier, so call this
   * from a platform thread.
   */
  @Override
  public Optional<UnixConnection> accept() {
    while (true) {
      int n = fd.acquire();
      if (n < 0) {
        return Optional.empty();
      }
      int connection;
      try {
        connection = Libc.accept4(n, Libc.SOCK_CLOEXEC, "accept4(" + path + ")");
      } catch (NativeException e) {
        if (fd.isClosed()) {
          return Optional.empty(); // close() shut the socket down: accept4 fails with EINVAL
        }
        if (e.errno() == Libc.ECONNABORTED) {
          continue; // the client gave up while queued; wait for the next one
        }
        throw e;
      } finally {
        fd.release();
      }
      try {
        return Optional.of(new LinuxUnixConnection(connection));
      } catch (RuntimeException e) {
        Libc.close(connection);
        throw e;
      }
    }
  }

  @Override
  public void close() {
    fd.shutdownAndClose();
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the socket file " + path, e);
    }
  }

  @Override
  public String toString() {
    return "unix listener " + path;
  }

  @Override
  public Fd fd() {
    throw new UnsupportedOperationException("todo");
  }

  @Override
  public Optional<UnixConnection> acceptNow() {
    throw new UnsupportedOperationException("todo");
  }
}
