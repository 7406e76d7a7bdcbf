package dev.baton.os;

/**
 * An epoll set: the one place the supervisor's event loop waits. Interest is level-triggered, so a
 * handler that reads only part of what is there is called again on the next poll.
 *
 * <p>Only the loop's thread calls {@link #watch}, {@link #unwatch} and {@link #poll}; any thread
 * may call {@link #wakeup()}.
 */
public interface Poller extends AutoCloseable {

  /**
   * {@link #poll} reports this for a descriptor that can be read, or is at EOF, hung up or in
   * error.
   */
  int READABLE = 1;

  /** {@link #poll} reports this for a descriptor that can be written, or is hung up or in error. */
  int WRITABLE = 2;

  /**
   * Watches {@code fd} for the events in {@code interest} (READABLE, WRITABLE or both), replacing
   * any earlier interest in it; {@code token} is what {@link #poll} reports for it. An interest of
   * 0 keeps the descriptor registered but reports nothing (hang-ups included).
   */
  void watch(Fd fd, int interest, long token);

  /** Stops watching {@code fd}. Call it before closing the descriptor. A no-op when not watched. */
  void unwatch(Fd fd);

  /**
   * Waits until a watched descriptor is ready, {@link #wakeup()} is called, or {@code
   * timeoutMillis} passes (-1: no limit; 0: do not wait), then fills {@code tokens} and {@code
   * events} with what is ready and returns how many. Returns 0 on a timeout, a wake-up or a signal
   * (EINTR).
   */
  int poll(long[] tokens, int[] events, long timeoutMillis);

  /**
   * Makes the current or next {@link #poll} return. Safe from any thread, and cheap when repeated.
   */
  void wakeup();

  @Override
  void close();
}
