package dev.baton.os;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
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
      var datagram = fd.whileOpen(n -> receiveOne(n, 0));
      // Closed, or close() shut the socket down while recvmsg waited, so it returned 0 bytes.
      if (datagram.isEmpty() || fd.isClosed()) {
        return Optional.empty();
      }
      if (datagram.get().message().isPresent()) {
        return datagram.get().message();
      }
    }
  }

  /** As {@link #receive()}, with MSG_DONTWAIT: datagrams without credentials are skipped too. */
  @Override
  public Optional<NotifyMessage> receiveNow() {
    while (true) {
      var datagram = fd.whileHeld(n -> receiveOne(n, LibcEvents.MSG_DONTWAIT));
      if (datagram.isEmpty()) {
        return Optional.empty();
      }
      if (!datagram.get().received() || datagram.get().message().isPresent()) {
        return datagram.get().message();
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
    LinuxOs.removeSocketFile(path, "the notify socket file");
  }

  @Override
  public String toString() {
    return "notify socket " + path;
  }

  @Override
  public Fd fd() {
    return fd.currentFd(this);
  }
}
