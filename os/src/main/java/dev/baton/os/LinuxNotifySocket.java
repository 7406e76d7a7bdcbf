package dev.baton.os;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The supervisor's NOTIFY_SOCKET. SO_PASSCRED makes the kernel attach the sender's pid to every
 * datagram, which is how the supervisor tells one generation's READY=1 from another's.
 */
final class LinuxNotifySocket implements NotifySocket {
  /** systemd's own limit for one notify datagram (NOTIFY_BUFFER_MAX = PIPE_BUF). */
  private static final int MAX_MESSAGE = 4096;

  private final Path path;
  private final SharedFd fd;

  LinuxNotifySocket(Path path, int fd) {
    this.path = path;
    this.fd = new SharedFd(fd);
  }

  @Override
  public Path path() {
    return path;
  }

  /**
   * Blocks in recvmsg(2); call it from a platform thread. Datagrams without credentials can't be
   * attributed to a generation and are skipped.
   */
  @Override
  public Optional<NotifyMessage> receive() {
    while (true) {
      int n = fd.acquire();
      if (n < 0) {
        return Optional.empty();
      }
      Msghdr.Ancillary ancillary;
      String text;
      try (var arena = Arena.ofConfined()) {
        var data = arena.allocate(MAX_MESSAGE);
        var control = arena.allocate(Msghdr.RECEIVE_CONTROL_SIZE, 8);
        var msg = Msghdr.of(arena, data, control);
        int count = (int) Libc.recvmsg(n, msg, Libc.MSG_CMSG_CLOEXEC, "recvmsg(" + path + ")");
        text = new String(data.asSlice(0, count).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        ancillary = Msghdr.ancillary(msg, control);
      } catch (NativeException e) {
        if (fd.isClosed()) {
          return Optional.empty();
        }
        throw e;
      } finally {
        fd.release();
      }
      // sd_notify may pass descriptors (FDSTORE=1). baton keeps none, and each one kept would leak.
      ancillary.fds().forEach(received -> Libc.close(received.value()));
      if (fd.isClosed()) {
        return Optional.empty(); // close() shut the socket down, so recvmsg returned 0 bytes
      }
      if (ancillary.sender().isPresent()) {
        var sender = ancillary.sender().get();
        return Optional.of(new NotifyMessage(sender.pid(), sender.uid(), text));
      }
    }
  }

  @Override
  public void close() {
    fd.shutdownAndClose();
    if (LinuxOs.isAbstract(path)) {
      return; // the kernel forgets an abstract name with its last socket
    }
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the notify socket file " + path, e);
    }
  }

  @Override
  public String toString() {
    return "notify socket " + path;
  }

  @Override
  public Fd fd() {
    throw new UnsupportedOperationException("todo");
  }

  @Override
  public java.util.Optional<NotifyMessage> receiveNow() {
    throw new UnsupportedOperationException("todo");
  }
}
