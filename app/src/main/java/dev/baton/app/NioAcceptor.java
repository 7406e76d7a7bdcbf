package dev.baton.app;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The plain-NIO adapter: accepts on listeners with one thread and a {@link Selector}, and can be
 * paused and resumed as a {@link Baton.Acceptor}.
 *
 * <p>It starts <b>paused</b> on every listener but the supervisor's probe listener ({@link
 * Listener#probe()}), which always accepts: call {@link #resume()} when the app may take public
 * traffic, which under baton is the supervisor's RESUME at promotion.
 *
 * <pre>{@code
 * NioAcceptor acceptor = NioAcceptor.start(listeners.all(), (listener, channel) -> serve(channel));
 * Baton baton = Baton.connect(acceptor);
 * if (!baton.startPaused()) {
 *   acceptor.resume();
 * }
 * }</pre>
 *
 * <h2>Why pausing this way holds</h2>
 *
 * A thread blocked in {@code accept()} cannot be called back: it returns with the next connection,
 * paused or not. So the listeners are put in non-blocking mode and this thread only ever accepts
 * while holding {@link #lock}, having just checked that it is not paused; {@link #pause()} sets the
 * flag under the same lock. Once pause() returns, not one more connection is accepted, and those
 * waiting in the shared accept queue stay there for whichever generation accepts next. While
 * paused, the public listeners are not even selected on, so a parked generation does not wake up
 * for every connection the active one takes.
 *
 * <h2>O_NONBLOCK is shared</h2>
 *
 * Non-blocking mode is a flag of the open file, and every generation shares the listeners' open
 * files: once one generation uses this class, every generation's listeners are non-blocking, and
 * {@code accept()} can fail with EAGAIN in all of them. Java's own channels cope (a blocking {@code
 * ServerSocketChannel.accept()} polls and retries on EAGAIN), as do Netty, Jetty, Tomcat's NIO
 * connector and any epoll or poll server; an app in another language that calls a plain blocking
 * {@code accept()} and treats EAGAIN as fatal would not, so do not mix such an app with this one in
 * the same service.
 */
public final class NioAcceptor implements Baton.Acceptor, AutoCloseable {

  /** What the app does with a connection it accepted: typically hand it to a thread and return. */
  public interface Handler {
    void accepted(Listener listener, SocketChannel channel) throws IOException;
  }

  /** Connections accepted from one listener before the others get a turn. */
  private static final int BATCH = 64;

  private final List<Listener> listeners;
  private final Handler handler;
  private final Selector selector;
  private final Thread thread;

  /** Held while checking {@link #paused} and accepting; pause() takes it to set the flag. */
  private final ReentrantLock lock = new ReentrantLock();

  /** Signalled when the connections of a batch have all been handed to the handler. */
  private final Condition handed = lock.newCondition();

  // Guarded by lock.
  private boolean paused = true;
  private boolean closed;

  /** Connections accepted and not yet handed to the handler. */
  private int unhanded;

  private NioAcceptor(List<Listener> listeners, Handler handler, Selector selector) {
    this.listeners = listeners;
    this.handler = handler;
    this.selector = selector;
    this.thread = new Thread(this::run, "accept " + names(listeners));
  }

  /**
   * Puts the listeners in non-blocking mode and starts accepting on the probe listener, if any; the
   * others wait for {@link #resume()}. The thread is not a daemon: like any server's acceptor it
   * keeps the JVM alive until {@link #close()}.
   */
  public static NioAcceptor start(Collection<Listener> listeners, Handler handler)
      throws IOException {
    Selector selector = Selector.open();
    List<Listener> all = List.copyOf(listeners);
    try {
      for (Listener listener : all) {
        listener.channel().configureBlocking(false);
        int interest = listener.probe() ? SelectionKey.OP_ACCEPT : 0;
        listener.channel().register(selector, interest, listener);
      }
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
    NioAcceptor acceptor = new NioAcceptor(all, handler, selector);
    acceptor.thread.start();
    return acceptor;
  }

  /**
   * Stops accepting on every listener but the probe. Returns once not one more connection will be
   * accepted, and every one accepted before has been handed to the handler.
   */
  @Override
  public void pause() {
    setPaused(true);
  }

  /** Accepts on every listener again. */
  @Override
  public void resume() {
    setPaused(false);
  }

  public boolean paused() {
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
      for (SelectionKey key : selector.keys()) {
        if (key.isValid() && !((Listener) key.attachment()).probe()) {
          key.interestOps(pause ? 0 : SelectionKey.OP_ACCEPT);
        }
      }
      awaitHandedLocked();
    } finally {
      lock.unlock();
    }
    selector.wakeup();
  }

  /** Waits until what was accepted has been handed over; a handler that pauses does not wait. */
  private void awaitHandedLocked() {
    boolean interrupted = false;
    while (unhanded > 0 && Thread.currentThread() != thread) {
      try {
        handed.await();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops accepting on every listener, the probe's included, for good: the first step of a drain.
   * Returns once not one more connection is accepted and the thread has ended. The listeners' own
   * channels stay open; close them (or {@link Listeners#close()}) to give up this process's fds.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
    } finally {
      lock.unlock();
    }
    selector.wakeup();
    if (Thread.currentThread() != thread) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "NioAcceptor " + names(listeners) + (paused() ? " (paused)" : "");
  }

  private void run() {
    List<SocketChannel> accepted = new ArrayList<>();
    List<Listener> from = new ArrayList<>();
    try {
      while (true) {
        selector.select();
        boolean failed = false;
        lock.lock();
        try {
          if (closed) {
            return;
          }
          Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
          while (keys.hasNext()) {
            SelectionKey key = keys.next();
            keys.remove();
            Listener listener = (Listener) key.attachment();
            if (!key.isValid() || (paused && !listener.probe())) {
              continue;
            }
            failed |= acceptLocked(key, listener, accepted, from);
          }
          unhanded = accepted.size();
        } finally {
          lock.unlock();
        }
        // Handed over outside the lock, so that the handler may call pause() or resume().
        for (int i = 0; i < accepted.size(); i++) {
          hand(from.get(i), accepted.get(i));
        }
        accepted.clear();
        from.clear();
        lock.lock();
        try {
          unhanded = 0;
          handed.signalAll();
        } finally {
          lock.unlock();
        }
        if (failed) {
          // Out of fds, say: slow down and let the queue wait rather than spin.
          Thread.sleep(100);
        }
      }
    } catch (IOException e) {
      System.err.println("baton-app: the accept selector failed, so " + this + " stops: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      lock.lock();
      try {
        unhanded = 0; // nobody will hand them now; a pause() waiting for them must not hang
        handed.signalAll();
      } finally {
        lock.unlock();
      }
      try {
        selector.close();
      } catch (IOException e) {
        // nothing left to do with it
      }
    }
  }

  /** Accepts what is queued, up to a batch; returns true if accept failed. */
  private boolean acceptLocked(
      SelectionKey key, Listener listener, List<SocketChannel> accepted, List<Listener> from) {
    for (int i = 0; i < BATCH; i++) {
      SocketChannel channel;
      try {
        channel = listener.channel().accept();
      } catch (ClosedChannelException e) {
        key.cancel(); // the app closed this listener: nothing more to accept from it
        return false;
      } catch (IOException e) {
        System.err.println("baton-app: accept on " + listener + " failed: " + e);
        return true;
      }
      if (channel == null) {
        return false; // queue empty, or another generation took the connection first
      }
      accepted.add(channel);
      from.add(listener);
    }
    return false;
  }

  private void hand(Listener listener, SocketChannel channel) {
    try {
      handler.accepted(listener, channel);
    } catch (IOException | RuntimeException e) {
      System.err.println(
          "baton-app: the handler failed on a connection from " + listener + ": " + e);
      try {
        channel.close();
      } catch (IOException closing) {
        // nothing left to do with it
      }
    }
  }

  private static String names(List<Listener> listeners) {
    StringBuilder names = new StringBuilder();
    for (Listener listener : listeners) {
      names.append(names.length() == 0 ? "" : ",").append(listener.name());
    }
    return names.toString();
  }
}
