package dev.baton.os;

import java.nio.file.Path;
import java.util.Optional;

/** The supervisor's NOTIFY_SOCKET: an AF_UNIX datagram socket that learns each sender's pid. */
public interface NotifySocket extends AutoCloseable {

  Path path();

  /** Blocks for the next datagram; empty once the socket is closed. */
  Optional<NotifyMessage> receive();

  @Override
  void close();
}
