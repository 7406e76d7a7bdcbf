package dev.baton.app;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Lines of ASCII from a channel, read straight from it: a stream adapter would take the channel's
 * blocking lock and hold up writers on other threads.
 */
final class LineReader {
  private static final int MAX_LINE = 8192;

  private final SocketChannel channel;
  private final ByteBuffer buffer = ByteBuffer.allocate(MAX_LINE);

  LineReader(SocketChannel channel) {
    this.channel = channel;
    buffer.flip();
  }

  /** The next line without its end, or null at the end of the stream. */
  @Nullable String next() throws IOException {
    while (true) {
      for (int i = buffer.position(); i < buffer.limit(); i++) {
        if (buffer.get(i) == '\n') {
          byte[] bytes = new byte[i - buffer.position()];
          buffer.get(bytes);
          buffer.get(); // the '\n'
          String line = new String(bytes, StandardCharsets.US_ASCII);
          return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
        }
      }
      if (buffer.remaining() == buffer.capacity()) {
        throw new IOException("a line from the supervisor longer than " + MAX_LINE + " bytes");
      }
      buffer.compact();
      int read;
      try {
        read = channel.read(buffer);
      } finally {
        buffer.flip();
      }
      if (read < 0) {
        return null;
      }
    }
  }
}
