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
      Datagram datagram;
      try {
        datagram = receiveOne(n, 0);
      } catch (NativeException e) {
        if (fd.isClosed()) {
          return Optional.empty();
        }
        throw e;
      } finally {
        fd.release();
      }
      if (fd.isClosed()) {
        return Optional.empty(); // close() shut the socket down, so recvmsg returned 0 bytes
      }
      if (datagram.message().isPresent()) {
        return datagram.message();
      }
    }
  }

  /** As {@link #receive()}, with MSG_DONTWAIT: datagrams without credentials are skipped too. */
  @Override
  public Optional<NotifyMessage> receiveNow() {
    while (true) {
      int n = fd.acquire();
      if (n < 0) {
        return Optional.empty();
      }
      Datagram datagram;
      try {
        datagram = receiveOne(n, LibcEvents.MSG_DONTWAIT);
      } finally {
        fd.release();
      }
      if (!datagram.received() || datagram.message().isPresent()) {
        return datagram.message();
      }
    }
  }

  /** What one recvmsg found; {@code received} is false when MSG_DONTWAIT found nothing. */
  private record Datagram(boolean received, Optional<NotifyMessage> message) {}

  private Datagram receiveOne(int n, int flags) {
    try (var arena = Arena.ofConfined()) {
      var data = arena.allocate(MAX_MESSAGE);
      var control = arena.allocate(Msghdr.RECEIVE_CONTROL_SIZE, 8);
      var msg = Msghdr.of(arena, data, control);
      // MSG_CMSG_CLOEXEC: a descriptor in flight must not leak into a generation spawned meanwhile.
      int count =
          (int)
              LibcEvents.recvmsgNow(n, msg, Libc.MSG_CMSG_CLOEXEC | flags, "recvmsg(" + path + ")");
      if (count < 0) {
        return new Datagram(false, Optional.empty());
      }
      var text = new String(data.asSlice(0, count).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
      var ancillary = Msghdr.ancillary(msg, control);
      // sd_notify may pass descriptors (FDSTORE=1). baton keeps none, and each one kept would leak.
      ancillary.fds().forEach(received -> Libc.close(received.value()));
      return new Datagram(
          true,
          ancillary.sender().map(sender -> new NotifyMessage(sender.pid(), sender.uid(), text)));
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
    int n = fd.current();
    if (n < 0) {
      throw new IllegalStateException(this + " is closed");
    }
    return new Fd(n);
  }
}
