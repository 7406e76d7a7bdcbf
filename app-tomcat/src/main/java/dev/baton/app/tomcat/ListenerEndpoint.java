package dev.baton.app.tomcat;

import dev.baton.app.Listener;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.tomcat.util.net.NioEndpoint;
import org.jspecify.annotations.Nullable;

/**
 * Tomcat's NIO endpoint on one handed-over listener, which can be paused without accepting one more
 * connection.
 *
 * <p>Tomcat's own acceptor thread blocks in {@code accept()}, and its own {@code pause()} unblocks
 * it by connecting to the listener. On a socket shared with other generations that is wrong twice:
 * the blocked {@code accept()} may return a real client's connection, which a paused Tomcat then
 * closes, and the unlocking connection may land in another generation. So here the listener is
 * non-blocking, and {@link #serverSocketAccept()} accepts only while holding {@link #lock} and not
 * paused, waiting on a selector of its own in between; {@link #pause()} sets the flag under the
 * same lock, so once it returns nothing more is accepted. {@link #unlockAccept()} only wakes that
 * wait.
 *
 * <p>Tomcat's own pause flag (set by {@code Connector.pause()} and on the way to a stop) is obeyed
 * the same way. It is not how baton pauses: a paused Tomcat answers 503 to requests on connections
 * it keeps alive, and a parked generation should go on serving those.
 */
final class ListenerEndpoint extends NioEndpoint {

  /** How often a waiting accept looks again at Tomcat's running flag, which nothing signals. */
  private static final long RECHECK_MILLIS = 50;

  private final Listener listener;

  /** Held while accepting; {@link #pause()} takes it to set {@link #paused}. */
  private final ReentrantLock lock = new ReentrantLock();

  private final Condition changed = lock.newCondition();

  // Guarded by lock.
  private boolean paused;

  /** The acceptor thread's own, opened by it on its first accept. */
  private volatile @Nullable Selector selector;

  ListenerEndpoint(Listener listener, boolean paused) {
    this.listener = listener;
    this.paused = paused;
    if (listener.address() instanceof InetSocketAddress) {
      // Only for Tomcat's names and logs ("http-nio-8080"): nothing is bound.
      setPort(((InetSocketAddress) listener.address()).getPort());
    }
  }

  Listener listener() {
    return listener;
  }

  /** Returns once not one more connection can be accepted, until {@link #resumeAccepting()}. */
  void pauseAccepting() {
    setPaused(true);
  }

  void resumeAccepting() {
    setPaused(false);
  }

  boolean pausedAccepting() {
    lock.lock();
    try {
      return paused;
    } finally {
      lock.unlock();
    }
  }

  private void setPaused(boolean pause) {
    lock.lock();
    try {
      paused = pause;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    wakeSelector();
  }

  @Override
  protected void initServerSocket() throws IOException {
    // Nothing to bind: the listener is bound already, and shared.
    listener.channel().configureBlocking(false);
  }

  @Override
  protected NetworkChannel getServerSocket() {
    return listener.channel();
  }

  @Override
  protected SocketChannel serverSocketAccept() throws Exception {
    while (true) {
      lock.lock();
      try {
        while (isRunning() && (paused || isPaused())) {
          changed.await(RECHECK_MILLIS, TimeUnit.MILLISECONDS);
        }
        if (!isRunning()) {
          // Tomcat is stopping: its acceptor ends quietly on an exception when not running.
          throw new ClosedChannelException();
        }
        SocketChannel channel = listener.channel().accept();
        if (channel != null) {
          return channel;
        }
      } finally {
        lock.unlock();
      }
      awaitConnection();
    }
  }

  /** Waits, without the lock, until a connection may be queued or something changed. */
  private void awaitConnection() throws IOException {
    try {
      Selector current = selector;
      if (current == null) {
        current = Selector.open();
        listener.channel().register(current, SelectionKey.OP_ACCEPT);
        selector = current;
      }
      current.select(RECHECK_MILLIS);
      current.selectedKeys().clear();
    } catch (ClosedSelectorException e) {
      throw new ClosedChannelException(); // closed by a stop, as the listener is
    }
  }

  private void wakeSelector() {
    Selector current = selector;
    if (current != null) {
      current.wakeup();
    }
  }

  @Override
  protected void unlockAccept() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    wakeSelector();
  }

  @Override
  protected void doCloseServerSocket() throws IOException {
    // Closes this process's fd only: the socket and its queue live on in the supervisor.
    try {
      Selector current = selector;
      if (current != null) {
        current.close();
      }
    } finally {
      listener.channel().close();
    }
  }
}
