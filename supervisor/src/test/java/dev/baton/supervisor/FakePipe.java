package dev.baton.supervisor;

import dev.baton.os.Fd;
import dev.baton.os.PipeInput;
import dev.baton.os.Poller;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A pipe: what its writer (a generation) wrote and nobody has read yet. Its readers share it, as
 * the read ends of one pipe do; it reads as ended once the writer has closed and it is empty.
 */
final class FakePipe extends FakeFile {
  private final int inode;
  private final Bytes buffer = new Bytes();
  private boolean writerOpen = true;

  FakePipe(FakeOs os, int inode) {
    super(os);
    this.inode = inode;
  }

  void write(String text) {
    if (!writerOpen) {
      throw new IllegalStateException(link() + " has no writer any more");
    }
    var bytes = text.getBytes(StandardCharsets.UTF_8);
    buffer.add(bytes, 0, bytes.length);
    touch();
  }

  void closeWriter() {
    if (writerOpen) {
      writerOpen = false;
      touch();
    }
  }

  boolean writerOpen() {
    return writerOpen;
  }

  /** Bytes in the pipe that no reader has taken yet. */
  int unread() {
    return buffer.size();
  }

  @Override
  int readiness() {
    return buffer.size() > 0 || !writerOpen ? Poller.READABLE : 0;
  }

  @Override
  String link() {
    return "pipe:[" + inode + "]";
  }

  /** One read end, held by the supervisor as a descriptor of its own. */
  static final class Reader extends PipeInput {
    private final FakeOs os;
    private final Fd fd;
    private final FakePipe pipe;
    private boolean closed;

    Reader(FakeOs os, Fd fd, FakePipe pipe) {
      this.os = os;
      this.fd = fd;
      this.pipe = pipe;
    }

    @Override
    public Optional<Fd> fd() {
      return Optional.of(fd);
    }

    @Override
    public int readNow(byte[] into) throws IOException {
      if (closed || os.file(fd) != pipe) {
        throw new IOException("read(" + fd + "): Bad file descriptor");
      }
      int n = pipe.buffer.take(into, 0, into.length);
      if (n > 0) {
        return n;
      }
      return pipe.writerOpen ? 0 : -1;
    }

    @Override
    public void awaitReadable() {
      if (pipe.readiness() == 0) {
        throw new UnsupportedOperationException(
            "a fake pipe never blocks: this read would wait forever");
      }
    }

    @Override
    public int read() throws IOException {
      var one = new byte[1];
      int n = readNow(one);
      if (n == 0) {
        throw new UnsupportedOperationException("a fake pipe never blocks: this read would wait");
      }
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        os.close(fd);
      }
    }
  }
}
