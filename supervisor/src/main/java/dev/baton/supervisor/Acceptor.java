package dev.baton.supervisor;

import dev.baton.os.NativeException;
import dev.baton.os.Poller;
import dev.baton.os.UnixConnection;
import dev.baton.os.UnixListener;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts on one of the supervisor's Unix listeners from the loop. When accept fails for want of a
 * resource (EMFILE, ENFILE, ENOMEM), it stops watching the listener for a while instead of spinning
 * on a level-triggered readiness it cannot clear, and tries again: the socket stays, and callers
 * are served again as soon as the pressure is gone.
 */
final class Acceptor {
  private static final Logger LOG = LoggerFactory.getLogger(Acceptor.class);
  private static final Duration BACKOFF = Duration.ofMillis(100);

  private final Loop loop;
  private final UnixListener listener;
  private final Consumer<UnixConnection> accepted;
  private boolean closed;

  Acceptor(Loop loop, UnixListener listener, Consumer<UnixConnection> accepted) {
    this.loop = loop;
    this.listener = listener;
    this.accepted = accepted;
  }

  void start() {
    loop.watch(listener.fd(), Poller.READABLE, events -> acceptAll());
  }

  private void acceptAll() {
    while (!closed) {
      try {
        var connection = listener.acceptNow();
        if (connection.isEmpty()) {
          return;
        }
        take(connection.get());
      } catch (NativeException e) {
        LOG.warn(
            "cannot accept on {}: {}; trying again in {} ms",
            listener.path(),
            e.getMessage(),
            BACKOFF.toMillis());
        loop.interest(listener.fd(), 0);
        loop.after(
            BACKOFF,
            () -> {
              if (!closed) {
                loop.interest(listener.fd(), Poller.READABLE);
              }
            });
        return;
      }
    }
  }

  /**
   * Hands {@code connection} over; if that throws (epoll_ctl can fail with ENOMEM under the same
   * pressure as accept) it is closed, not left open with no owner, and the error goes on up.
   */
  private void take(UnixConnection connection) {
    try {
      accepted.accept(connection);
    } catch (RuntimeException e) {
      loop.unwatch(connection.fd());
      connection.close();
      throw e;
    }
  }

  void close() {
    if (!closed) {
      closed = true;
      loop.unwatch(listener.fd());
      listener.close();
    }
  }
}
