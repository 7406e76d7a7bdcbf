package dev.baton.app;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * Closes a server's kept-alive connections as they go idle, looking every 20 ms on a daemon thread:
 * what an adapter does while paused, so that a client that pools connections, HAProxy for one,
 * opens its next one elsewhere, and while it drains. Only idle connections may go, since closing
 * one a client is sending on would lose that request; which ones are idle is the server's to say,
 * so the adapter passes {@code closeIdle}.
 */
public final class IdleCloser {

  /** How often closeIdle runs: a connection goes at most this long after its idle time is up. */
  private static final long EVERY_MILLIS = 20;

  private final String name;
  private final Runnable closeIdle;

  /** The thread, while started. Guarded by this. */
  private Optional<Thread> thread = Optional.empty();

  /**
   * Closes nothing until started.
   *
   * @param name the thread's name
   * @param closeIdle closes the connections that are idle, and only those
   */
  public IdleCloser(String name, Runnable closeIdle) {
    this.name = name;
    this.closeIdle = closeIdle;
  }

  /** Starts closing idle connections, unless started already. */
  public synchronized void start() {
    if (thread.isEmpty()) {
      thread = Optional.of(run(name, closeIdle, () -> true, () -> {}));
    }
  }

  /** Stops closing them; returns at once. */
  public synchronized void stop() {
    thread.ifPresent(Thread::interrupt);
    thread = Optional.empty();
  }

  public synchronized boolean started() {
    return thread.isPresent();
  }

  /**
   * Closes idle connections until {@code open} counts none, or until the timeout; the future
   * completes then.
   */
  public static CompletableFuture<Void> drain(
      String name, Runnable closeIdle, IntSupplier open, Duration timeout) {
    CompletableFuture<Void> drained = new CompletableFuture<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    run(
        name,
        closeIdle,
        () -> open.getAsInt() > 0 && System.nanoTime() - deadline < 0,
        () -> drained.complete(null));
    return drained;
  }

  private static Thread run(String name, Runnable closeIdle, BooleanSupplier more, Runnable then) {
    Thread thread =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted() && more.getAsBoolean()) {
                closeIdle.run();
                try {
                  Thread.sleep(EVERY_MILLIS);
                } catch (InterruptedException e) {
                  break;
                }
              }
              then.run();
            },
            name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
