package dev.baton.supervisor;

import dev.baton.os.UnixConnection;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the connections one of the supervisor's line sockets holds open at once, refused ones that
 * linger for their answer included: past the bound a caller is closed unanswered, so that a flood
 * of connections holds a bounded number of descriptors and buffers.
 */
final class OpenConnections {
  private static final Logger LOG = LoggerFactory.getLogger(OpenConnections.class);

  private final Loop loop;
  private final int max;
  private final int maxLine;
  private final String what;
  private int open;

  /** {@code what} names one connection in the logs: "a control connection". */
  OpenConnections(Loop loop, int max, int maxLine, String what) {
    this.loop = loop;
    this.max = max;
    this.maxLine = maxLine;
    this.what = what;
  }

  /**
   * {@code connection} as a {@link LineChannel} of lines up to {@code maxLine} bytes, counted until
   * it closes; empty, and the connection closed, when {@code max} are open already.
   */
  Optional<LineChannel> admit(UnixConnection connection) {
    if (open >= max) {
      LOG.warn(
          "closed {} from pid {} unanswered: {} are open already",
          what,
          connection.peer().pid(),
          open);
      connection.close();
      return Optional.empty();
    }
    var channel = new LineChannel(loop, connection, maxLine, what);
    open++;
    channel.whenClosed(() -> open--);
    return Optional.of(channel);
  }
}
