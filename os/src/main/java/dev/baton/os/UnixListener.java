package dev.baton.os;

import java.nio.file.Path;
import java.util.Optional;

/** A Unix stream listener, e.g. the control socket. */
public interface UnixListener extends AutoCloseable {

  Path path();

  /** Blocks for the next connection; empty once the listener is closed. */
  Optional<UnixConnection> accept();

  /** The listening socket, for a {@link Poller}. */
  Fd fd();

  /**
   * Without blocking: the next connection, set non-blocking itself, or empty when none is queued.
   *
   * @throws NativeException on EMFILE, ENFILE, ENOMEM and the like: the caller backs off and
   *     retries
   */
  Optional<UnixConnection> acceptNow();

  /** Wakes a blocked {@link #accept()} and removes the socket file. */
  @Override
  void close();
}
