package dev.baton.os;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Objects;

/**
 * A connected AF_UNIX stream socket. Closing one of its streams only half-closes (output) or ends
 * that stream (input); {@link #close()} releases the socket and wakes any thread blocked in it.
 */
final class LinuxUnixConnection implements UnixConnection {
  /** The most one readNow or writeNow moves: a socket's buffer is about this size. */
  private static final int CHUNK = 64 * 1024;

  private final SharedFd fd;
  private final PeerCredentials peer;
  private final InputStream input;
  private final OutputStream output;

  LinuxUnixConnection(int fd) {
    this.fd = new SharedFd(fd);
    this.peer = peerOf(fd);
    this.input = new FdInputStream(this.fd, /* ownsFd= */ false);
    this.output = new FdOutputStream(this.fd);
  }

  /** SO_PEERCRED: the credentials the peer had when it called connect() or listen(). */
  private static PeerCredentials peerOf(int fd) {
    try (var arena = Arena.ofConfined()) {
      var ucred = arena.allocate(Libc.UCRED);
      Libc.getsockopt(
          fd, Libc.SOL_SOCKET, Libc.SO_PEERCRED, ucred, "getsockopt(fd=" + fd + ", SO_PEERCRED)");
      return new PeerCredentials(
          ucred.get(JAVA_INT, 0), ucred.get(JAVA_INT, 4), ucred.get(JAVA_INT, 8));
    }
  }

  @Override
  public PeerCredentials peer() {
    return peer;
  }

  @Override
  public InputStream input() {
    return input;
  }

  @Override
  public OutputStream output() {
    return output;
  }

  @Override
  public void send(byte[] data, List<Fd> fds) {
    if (data.length == 0) {
      // Descriptors ride on data: a zero-byte sendmsg on a stream socket sends nothing at all.
      throw new IllegalArgumentException(
          "send needs at least one byte of data to carry descriptors");
    }
    String what = "sendmsg(" + fd + ")";
    int n = acquireOpen(what);
    try (var arena = Arena.ofConfined()) {
      var buffer = arena.allocateFrom(JAVA_BYTE, data);
      var msg = Msghdr.of(arena, buffer, Msghdr.rights(arena, fds));
      long sent;
      while ((sent = LibcEvents.sendmsgNow(n, msg, Libc.MSG_NOSIGNAL, what)) < 0) {
        awaitReady(n, LibcEvents.POLLOUT); // accepted by acceptNow(), so non-blocking
      }
      // The descriptors went with the first byte; a short write leaves only plain data to send.
      while (sent < data.length) {
        long taken =
            LibcEvents.sendNow(
                n, buffer.asSlice(sent), data.length - sent, Libc.MSG_NOSIGNAL, what);
        if (taken < 0) {
          awaitReady(n, LibcEvents.POLLOUT);
        } else {
          sent += taken;
        }
      }
    } finally {
      fd.release();
    }
  }

  @Override
  public Received receive(byte[] buffer) {
    String what = "recvmsg(" + fd + ")";
    int n = fd.acquire();
    if (n < 0) {
      return new Received(0, List.of());
    }
    try (var arena = Arena.ofConfined()) {
      var data = arena.allocate(Math.max(buffer.length, 1));
      var control = arena.allocate(Msghdr.RECEIVE_CONTROL_SIZE, 8);
      var msg = Msghdr.of(arena, data.asSlice(0, buffer.length), control);
      // MSG_CMSG_CLOEXEC: received descriptors must not leak into the next spawned generation.
      int count;
      while ((count = (int) LibcEvents.recvmsgNow(n, msg, Libc.MSG_CMSG_CLOEXEC, what)) < 0) {
        awaitReady(n, LibcEvents.POLLIN);
      }
      MemorySegment.copy(data, JAVA_BYTE, 0, buffer, 0, count);
      return new Received(count, Msghdr.ancillary(msg, control).fds());
    } finally {
      fd.release();
    }
  }

  private int acquireOpen(String what) {
    int n = fd.acquire();
    if (n < 0) {
      throw Native.error(what, Libc.EBADF);
    }
    return n;
  }

  @Override
  public void close() {
    fd.shutdownAndClose();
  }

  @Override
  public String toString() {
    return "unix connection " + fd + " to pid " + peer.pid();
  }

  /** Where a blocking call meets EAGAIN on a socket that acceptNow() made non-blocking. */
  private void awaitReady(int n, short events) {
    LibcEvents.poll(n, events, -1, "poll(" + fd + ")");
  }

  @Override
  public Fd fd() {
    return fd.currentFd(this);
  }

  @Override
  public int readNow(byte[] buffer, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, buffer.length);
    if (length == 0) {
      return 0;
    }
    int n = fd.acquire();
    if (n < 0) {
      return -1;
    }
    try (var arena = Arena.ofConfined()) {
      var data = arena.allocate(Math.min(length, CHUNK));
      long count = LibcEvents.recvNow(n, data, data.byteSize(), "recv(" + fd + ", MSG_DONTWAIT)");
      if (count == -LibcEvents.EAGAIN) {
        return 0;
      }
      if (count <= 0) {
        return -1; // EOF, or ECONNRESET: the peer is gone either way
      }
      MemorySegment.copy(data, JAVA_BYTE, 0, buffer, offset, (int) count);
      return (int) count;
    } finally {
      fd.release();
    }
  }

  @Override
  public int writeNow(byte[] buffer, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, buffer.length);
    if (length == 0) {
      return 0;
    }
    String what = "send(" + fd + ", MSG_DONTWAIT)";
    int n = acquireOpen(what);
    try (var arena = Arena.ofConfined()) {
      var data = arena.allocate(Math.min(length, CHUNK));
      MemorySegment.copy(buffer, offset, data, JAVA_BYTE, 0, (int) data.byteSize());
      long taken =
          LibcEvents.sendNow(
              n, data, data.byteSize(), LibcEvents.MSG_DONTWAIT | Libc.MSG_NOSIGNAL, what);
      return (int) Math.max(taken, 0);
    } finally {
      fd.release();
    }
  }
}
