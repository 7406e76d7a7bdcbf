package dev.baton.os;

import java.io.IOException;
import java.io.InputStream;

/**
 * The read end of a generation's output pipe. Besides reading, a reader can wait until there is
 * something to read without taking it: a supervisor about to re-execute itself can then stop its
 * readers between two reads, and not one byte leaves the pipe that the next program won't see.
 */
public abstract class PipeInput extends InputStream {

  /** Blocks until a read would not block: data, or end of stream, or an error. */
  public abstract void awaitReadable() throws IOException;

  /** The read end itself, for a {@link Poller}; empty for a pipe that is not there. */
  public abstract java.util.Optional<Fd> fd();

  /**
   * Without blocking: reads up to {@code buffer.length} bytes. Returns how many, 0 when nothing is
   * there yet, or -1 at end of stream (every writer has closed).
   */
  public abstract int readNow(byte[] buffer) throws IOException;

  /** A pipe with nothing in it and no writer, for processes whose output is not ours to read. */
  public static PipeInput empty() {
    return new PipeInput() {
      @Override
      public void awaitReadable() {}

      @Override
      public int read() {
        return -1;
      }

      @Override
      public java.util.Optional<Fd> fd() {
        return java.util.Optional.empty();
      }

      @Override
      public int readNow(byte[] buffer) {
        return -1;
      }
    };
  }
}
