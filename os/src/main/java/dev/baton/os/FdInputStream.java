package dev.baton.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * An InputStream over read(2), for pipes and stream sockets. It blocks in native code, so read it
 * from a platform thread: a virtual thread would pin its carrier for as long as the read waits.
 *
 * <p>{@link #readNow} sets O_NONBLOCK on the descriptor's open file description, which the
 * generation's own copy of the read end shares (it never reads it) and which a restarted supervisor
 * takes back as it is. The blocking read then waits in poll(2) where read(2) says EAGAIN, so both
 * kinds of reader work on either kind of descriptor.
 */
final class FdInputStream extends PipeInput {
  private static final int CHUNK = 16 * 1024;

  /** A pipe holds 64 KiB by default: one readNow can empty it. */
  private static final int CHUNK_NOW = 64 * 1024;

  private final SharedFd fd;
  private final boolean ownsFd;
  private volatile boolean closed;
  private volatile boolean nonBlocking;

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
      LibcEvents.poll(n, LibcEvents.POLLIN, -1, "poll(" + fd + ")");
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
      while ((count = LibcEvents.readNow(n, buffer, buffer.byteSize(), "read(" + fd + ")")) < 0) {
        LibcEvents.poll(n, LibcEvents.POLLIN, -1, "poll(" + fd + ")"); // O_NONBLOCK, and EAGAIN
      }
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
    int n = fd.current();
    return n < 0 || closed ? java.util.Optional.empty() : java.util.Optional.of(new Fd(n));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Unlike {@link #read}, this leaves the descriptor open at end of stream: the loop must stop
   * watching it before it is closed, and closes it with {@link #close()}.
   */
  @Override
  public int readNow(byte[] bytes) throws IOException {
    if (bytes.length == 0) {
      return 0;
    }
    int n = fd.acquire();
    if (n < 0 || closed) {
      if (n >= 0) {
        fd.release();
      }
      return -1;
    }
    try (var arena = Arena.ofConfined()) {
      if (!nonBlocking) {
        LibcEvents.setNonBlocking(n, "fcntl(" + fd + ", F_SETFL, O_NONBLOCK)");
        nonBlocking = true;
      }
      var buffer = arena.allocate(Math.min(bytes.length, CHUNK_NOW));
      long count = LibcEvents.readNow(n, buffer, buffer.byteSize(), "read(" + fd + ")");
      if (count <= 0) {
        return count == 0 ? -1 : 0; // 0 is EOF; -1 is EAGAIN, nothing there yet
      }
      MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, 0, bytes, 0, (int) count);
      return (int) count;
    } catch (NativeException e) {
      throw new IOException(e.getMessage(), e);
    } finally {
      fd.release();
    }
  }
}
