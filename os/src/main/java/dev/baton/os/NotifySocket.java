package dev.baton.os;

import java.nio.file.Path;
import java.util.Optional;

/** The supervisor's NOTIFY_SOCKET: an AF_UNIX datagram socket that learns each sender's pid. */
public interface NotifySocket extends AutoCloseable {

  Path path();

  /** Blocks for the next datagram; empty once the socket is closed. */
  Optional<NotifyMessage> receive();

  /** The socket, for a {@link Poller}. */
  Fd fd();

  /** Without blocking: the next datagram, or empty when none is queued. */
  Optional<NotifyMessage> receiveNow();

  @Override
  void close();
}
