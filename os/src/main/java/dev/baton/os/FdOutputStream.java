package dev.baton.os;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * An OutputStream over a stream socket. It writes with send(MSG_NOSIGNAL) rather than write(2): a
 * peer that went away must become an IOException (EPIPE), never a SIGPIPE aimed at the JVM.
 */
final class FdOutputStream extends OutputStream {
  private final SharedFd fd;

  FdOutputStream(SharedFd fd) {
    this.fd = fd;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    int n = fd.acquire();
    if (n < 0) {
      throw new IOException("connection " + fd + " is closed");
    }
    try (var arena = Arena.ofConfined()) {
      var data = arena.allocate(Math.max(length, 1));
      MemorySegment.copy(bytes, offset, data, ValueLayout.JAVA_BYTE, 0, length);
      // send(2) on a stream socket may take fewer bytes than offered; loop until all are out.
      // A socket accepted for the event loop is non-blocking: wait in poll(2) where it is full.
      long sent = 0;
      while (sent < length) {
        long taken =
            LibcEvents.sendNow(
                n, data.asSlice(sent), length - sent, Libc.MSG_NOSIGNAL, "send(" + fd + ")");
        if (taken < 0) {
          LibcEvents.poll(n, LibcEvents.POLLOUT, -1, "poll(" + fd + ")");
        } else {
          sent += taken;
        }
      }
    } catch (NativeException e) {
      throw new IOException(e.getMessage(), e);
    } finally {
      fd.release();
    }
  }

  /** Half-closes: the peer reads EOF, and this side can still read the reply. */
  @Override
  public void close() throws IOException {
    int n = fd.acquire();
    if (n < 0) {
      return;
    }
    try {
      Libc.shutdown(n, Libc.SHUT_WR, "shutdown(" + fd + ", SHUT_WR)");
    } catch (NativeException e) {
      // ENOTCONN: the peer is already gone, so there's nothing left to half-close.
    } finally {
      fd.release();
    }
  }
}
