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

  /** A pipe with nothing in it and no writer, for processes whose output is not ours to read. */
  public static PipeInput empty() {
    return new PipeInput() {
      @Override
      public void awaitReadable() {}

      @Override
      public int read() {
        return -1;
      }
    };
  }
}
