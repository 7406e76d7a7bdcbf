package dev.baton.os;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * An InputStream over read(2), for pipes and stream sockets. It blocks in native code, so read it
 * from a platform thread: a virtual thread would pin its carrier for as long as the read waits.
 */
final class FdInputStream extends PipeInput {
  private static final int CHUNK = 16 * 1024;

  private final SharedFd fd;
  private final boolean ownsFd;
  private volatile boolean closed;

  /**
   * @param ownsFd whether the stream closes the descriptor at EOF and on close(); a connection's
   *     stream does not, since the connection may still write
   */
  FdInputStream(SharedFd fd, boolean ownsFd) {
    this.fd = fd;
    this.ownsFd = ownsFd;
  }

  @Override
  public void awaitReadable() throws IOException {
    int n = fd.acquire();
    if (n < 0 || closed) {
      if (n >= 0) {
        fd.release();
      }
      return;
    }
    try {
      Libc.awaitReadable(n, "poll(" + fd + ")");
    } catch (NativeException e) {
      throw new IOException(e.getMessage(), e);
    } finally {
      fd.release();
    }
  }

  @Override
  public int read() throws IOException {
    var one = new byte[1];
    int n = read(one, 0, 1);
    return n == -1 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] bytes, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    if (length == 0) {
      return 0;
    }
    int n = fd.acquire();
    if (n < 0 || closed) {
      if (n >= 0) {
        fd.release();
      }
      return -1;
    }
    long count;
    // Native memory per call: a downcall can't read into a Java array while it may block.
    try (var arena = Arena.ofConfined()) {
      var buffer = arena.allocate(Math.min(length, CHUNK));
      count = Libc.read(n, buffer, buffer.byteSize(), "read(" + fd + ")");
      MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, 0, bytes, offset, (int) count);
    } catch (NativeException e) {
      throw new IOException(e.getMessage(), e);
    } finally {
      fd.release();
    }
    if (count == 0) {
      close(); // EOF: give the descriptor back now rather than when someone remembers to close
      return -1;
    }
    return (int) count;
  }

  @Override
  public void close() {
    closed = true;
    if (ownsFd) {
      fd.close();
    }
  }

  @Override
  public java.util.Optional<Fd> fd() {
    throw new UnsupportedOperationException("todo");
  }

  @Override
  public int readNow(byte[] buffer) {
    throw new UnsupportedOperationException("todo");
  }
}
