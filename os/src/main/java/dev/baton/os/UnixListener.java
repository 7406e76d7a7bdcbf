package dev.baton.os;

import java.nio.file.Path;
import java.util.Optional;

/** A Unix stream listener, e.g. the control socket. */
public interface UnixListener extends AutoCloseable {

  Path path();

  /** Blocks for the next connection; empty once the listener is closed. */
  Optional<UnixConnection> accept();

  /** Wakes a blocked {@link #accept()} and removes the socket file. */
  @Override
  void close();
}
