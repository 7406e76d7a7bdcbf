package dev.baton.app.netty;

import dev.baton.app.Listener;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.util.List;

/**
 * Netty's NIO server channel on one handed-over listener, which can be paused without accepting one
 * more connection.
 *
 * <p>Netty accepts on the channel's event loop, in non-blocking mode, and so does everything here:
 * {@link #pauseInEventLoop} turns auto-read off, which takes the listener out of the selector, and
 * sets {@link #paused}, which {@link #doReadMessages} checks before each accept. Run on the event
 * loop, the pause cannot interleave with an accept, so once it has run nothing more is accepted.
 * The flag also holds where Netty turns auto-read back on by itself (its acceptor does, a second
 * after an accept fails).
 */
final class ListenerChannel extends NioServerSocketChannel {

  private final Listener listener;

  /** Written and read on the event loop; volatile only for {@link #toString()}. */
  private volatile boolean paused;

  ListenerChannel(Listener listener, boolean paused) {
    super(listener.channel());
    this.listener = listener;
    this.paused = paused;
  }

  Listener listener() {
    return listener;
  }

  @Override
  protected int doReadMessages(List<Object> accepted) throws Exception {
    return paused ? 0 : super.doReadMessages(accepted);
  }

  void pauseInEventLoop() {
    paused = true;
    config().setAutoRead(false);
  }

  void resumeInEventLoop() {
    paused = false;
    config().setAutoRead(true);
  }

  @Override
  public String toString() {
    return "ListenerChannel " + listener + (paused ? " (paused)" : "");
  }
}
