package dev.baton.app.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.app.Baton;
import dev.baton.app.Listener;
import dev.baton.app.Listeners;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every adapter does, whatever its server: it starts paused, leaving new connections in the
 * shared queue for another generation; it serves on the adopted listener once resumed; and once
 * {@code pause()} returns it accepts not one more connection. An adapter's test extends this (or
 * {@link HttpAdapterContract}), says how its server starts on the listeners and stops, and adds the
 * tests of what only its adapter does.
 */
public abstract class AdapterContract {
  private Listeners listeners;
  private Listener listener;
  private Baton.Acceptor adapter;

  /**
   * Starts the server on the listeners, answering each request with a 200 and the body {@code
   * ok\n}; returns the adapter as it leaves the server, paused.
   */
  protected abstract Baton.Acceptor start(Listeners listeners) throws Exception;

  /** Stops the server; the listeners are closed after. */
  protected abstract void stop() throws Exception;

  @BeforeEach
  final void adoptAndStart() throws Exception {
    listeners = Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    listener = listeners.all().get(0);
    adapter = start(listeners);
  }

  @AfterEach
  final void stopAndClose() throws Exception {
    stop();
    listeners.close();
  }

  /** The one listener, bound here on a free loopback port. */
  protected final Listener listener() {
    return listener;
  }

  protected final InetSocketAddress address() {
    return (InetSocketAddress) listener.address();
  }

  final Baton.Acceptor adapter() {
    return adapter;
  }

  @Test
  void startsPausedAndLeavesConnectionsInTheSharedQueue() throws Exception {
    var waiting = Client.send(address(), "/");
    assertThat(Client.answer(waiting, Duration.ofMillis(300))).isEmpty();
    assertThat(Client.acceptWithin(listener.channel(), Duration.ofSeconds(2))).isPresent();
  }

  @Test
  void servesOnTheListenerOnceResumed() throws Exception {
    adapter.resume();
    assertThat(Client.get(address(), "/")).startsWith("HTTP/1.1 200").endsWith("ok\n");
  }

  @Test
  void afterPauseReturnsNotOneMoreConnectionIsAcceptedEvenRightAfterServing() throws Exception {
    for (int i = 0; i < 20; i++) {
      adapter.resume();
      assertThat(Client.get(address(), "/")).as("round %d", i).startsWith("HTTP/1.1 200");
      // Having served, the server is already waiting for the next connection, Tomcat's acceptor
      // thread for one: the pause must stop that wait too.
      adapter.pause();
      try (var queued = Client.send(address(), "/")) {
        var accepted = Client.acceptWithin(listener.channel(), Duration.ofSeconds(2));
        assertThat(accepted)
            .as("round %d: the connection stayed in the queue for another", i)
            .isPresent();
        accepted.get().close();
      }
    }
  }
}
