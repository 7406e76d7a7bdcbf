package dev.baton.app.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.app.Listener;
import dev.baton.app.Listeners;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JettyListenersTest {
  private Listeners listeners;
  private Listener listener;
  private Server server;
  private JettyListeners jetty;

  @BeforeEach
  void start() throws Exception {
    listeners = Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    listener = listeners.all().get(0);
    server = new Server();
    jetty = JettyListeners.addTo(server, listeners);
    server.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            response.write(
                true, ByteBuffer.wrap("ok\n".getBytes(StandardCharsets.US_ASCII)), callback);
            return true;
          }
        });
    server.start();
  }

  @AfterEach
  void stop() throws Exception {
    server.stop();
    listeners.close();
  }

  private InetSocketAddress address() {
    return (InetSocketAddress) listener.address();
  }

  @Test
  void startsPausedAndLeavesConnectionsInTheSharedQueue() throws Exception {
    var waiting = Client.send(address(), "/");
    assertThat(Client.answer(waiting, Duration.ofMillis(300))).isEmpty();
    assertThat(Client.acceptWithin(listener.channel(), Duration.ofSeconds(2))).isPresent();
  }

  @Test
  void servesOnTheListenerOnceResumed() throws Exception {
    jetty.resume();
    assertThat(Client.get(address(), "/")).startsWith("HTTP/1.1 200").endsWith("ok\n");
  }

  @Test
  void afterPauseReturnsNotOneMoreConnectionIsAcceptedEvenRightAfterServing() throws Exception {
    for (int i = 0; i < 20; i++) {
      jetty.resume();
      assertThat(Client.get(address(), "/")).as("round %d", i).startsWith("HTTP/1.1 200");
      jetty.pause();
      try (var queued = Client.send(address(), "/")) {
        var accepted = Client.acceptWithin(listener.channel(), Duration.ofSeconds(2));
        assertThat(accepted)
            .as("round %d: the connection stayed in the queue for another", i)
            .isPresent();
        accepted.get().close();
      }
    }
  }

  @Test
  void drainAnswersWithConnectionCloseAndCompletesWhenNoConnectionIsLeft() throws Exception {
    jetty.resume();
    var drained = jetty.drain(Duration.ofSeconds(5));
    assertThat(drained).succeedsWithin(Duration.ofSeconds(3));
    try (var queued = Client.send(address(), "/")) {
      assertThat(Client.acceptWithin(listener.channel(), Duration.ofSeconds(2))).isPresent();
    }
  }

  @Test
  void aPausedConnectorAnswersAKeptAliveConnectionWithConnectionCloseThenClosesIt()
      throws Exception {
    jetty.resume();
    try (var client = new KeptAlive(address())) {
      assertThat(client.get())
          .startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("connection: close");
      jetty.pause();
      assertThat(client.get()).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close");
      assertThat(client.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void aPausedConnectorClosesAKeptAliveConnectionLeftIdle() throws Exception {
    jetty.resume();
    try (var client = new KeptAlive(address())) {
      assertThat(client.get()).startsWith("HTTP/1.1 200");
      jetty.pause();
      assertThat(client.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void onResumeConnectionsAreKeptAliveAgain() throws Exception {
    jetty.resume();
    jetty.pause();
    jetty.resume();
    try (var client = new KeptAlive(address())) {
      for (int i = 0; i < 3; i++) {
        assertThat(client.get())
            .as("request %d", i)
            .startsWith("HTTP/1.1 200")
            .doesNotContainIgnoringCase("connection: close");
      }
      assertThat(client.closedWithin(Duration.ofMillis(1500))).as("idle, but not paused").isFalse();
    }
  }
}
