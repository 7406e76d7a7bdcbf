package dev.baton.app.jetty;

import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ServerConnector} on one handed-over listener that can be paused without accepting one
 * more connection.
 *
 * <p>It has no acceptor threads ({@code acceptors = 0}): the selector accepts, in non-blocking
 * mode, so no thread ever sits in a blocking {@code accept()} that a pause could not call back. The
 * selector's accept goes through {@link GatedSelectorManager#doAccept}, which accepts only while
 * holding {@link #lock} and not paused; {@link #pause()} sets the flag under the same lock, so once
 * it returns nothing more is accepted. While paused, the listener's selection key has no interest,
 * so a paused connector does not wake up for every connection the active generation takes.
 *
 * <p>Not Jetty's own {@code setAccepting(false)}: with no acceptor threads it cancels the selection
 * key later, on the selector's thread, so a connection may still be accepted after it returns; and
 * a {@code setAccepting(true)} before that cancel is flushed fails to register the listener again
 * and closes it (Jetty 12.1), which gives up this process's fd of the shared socket for good. That
 * is how this class's first version failed its tests.
 */
final class ListenerConnector extends ServerConnector {

  // Qualified: Jetty's LifeCycle.Listener and Container.Listener are inherited member types.
  private final dev.baton.app.Listener listener;

  /** Held while accepting; {@link #pause()} takes it to set {@link #paused}. */
  private final ReentrantLock lock = new ReentrantLock();

  // Guarded by lock.
  private boolean paused;

  ListenerConnector(
      Server server,
      dev.baton.app.Listener listener,
      boolean paused,
      ConnectionFactory... factories)
      throws IOException {
    super(server, /* acceptors= */ 0, /* selectors= */ -1, factories);
    this.listener = listener;
    this.paused = paused;
    setName(listener.name());
    open(listener.channel());
  }

  dev.baton.app.Listener listener() {
    return listener;
  }

  @Override
  protected SelectorManager newSelectorManager(
      Executor executor, Scheduler scheduler, int selectors) {
    // Called by ServerConnector's constructor, before this class's fields are set: the manager
    // reads them only once started.
    return new GatedSelectorManager(executor, scheduler, selectors);
  }

  /** Returns once not one more connection can be accepted, until {@link #resume()}. */
  void pause() {
    lock.lock();
    try {
      paused = true;
      interestLocked(0);
    } finally {
      lock.unlock();
    }
  }

  void resume() {
    lock.lock();
    try {
      paused = false;
      interestLocked(SelectionKey.OP_ACCEPT);
    } finally {
      lock.unlock();
    }
  }

  boolean paused() {
    lock.lock();
    try {
      return paused;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sets the listener's interest in the selector that accepts on it. Before that selector has
   * registered the listener there is no key yet; the first {@code doAccept} while paused clears it.
   */
  private void interestLocked(int ops) {
    for (ManagedSelector selector : getSelectorManager().getBeans(ManagedSelector.class)) {
      SelectionKey key = listener.channel().keyFor(selector.getSelector());
      if (key != null && key.isValid()) {
        key.interestOps(ops);
        selector.getSelector().wakeup();
      }
    }
  }

  @Override
  public String toString() {
    return "ListenerConnector " + listener + (paused() ? " (paused)" : "");
  }

  private final class GatedSelectorManager extends ServerConnectorManager {
    GatedSelectorManager(Executor executor, Scheduler scheduler, int selectors) {
      super(executor, scheduler, selectors);
    }

    @Override
    protected @Nullable SelectableChannel doAccept(SelectableChannel server) throws IOException {
      lock.lock();
      try {
        if (paused) {
          interestLocked(0); // registered paused: no selecting on it until resume()
          return null; // "nothing to accept": the selector's acceptor stops for now
        }
        return super.doAccept(server);
      } finally {
        lock.unlock();
      }
    }
  }
}
