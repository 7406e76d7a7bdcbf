package dev.baton.app.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * What an adapter that owns its server's HTTP connections does besides {@link AdapterContract}, as
 * Jetty's and Tomcat's do: paused, it lets go of kept-alive connections too ({@code Connection:
 * close} on the next answer, closed once idle), since a client that pools connections would go on
 * talking to a parked generation; resumed, it keeps them alive again; and it drains.
 */
public abstract class HttpAdapterContract extends AdapterContract {

  /**
   * The adapter's drain: stops accepting on every listener; completes once no connection is left.
   */
  protected abstract CompletableFuture<Void> drain(Duration timeout);

  @Test
  void drainCompletesWhenNoConnectionIsLeftAndAcceptsNothingMore() throws Exception {
    adapter().resume();
    assertThat(Client.get(address(), "/")).startsWith("HTTP/1.1 200");
    assertThat(drain(Duration.ofSeconds(5))).succeedsWithin(Duration.ofSeconds(3));
    try (var queued = Client.send(address(), "/")) {
      assertThat(Client.acceptWithin(listener().channel(), Duration.ofSeconds(2))).isPresent();
    }
  }

  @Test
  void aPausedConnectorAnswersAKeptAliveConnectionWithConnectionCloseThenClosesIt()
      throws Exception {
    adapter().resume();
    try (var client = new KeptAlive(address())) {
      assertThat(client.get())
          .startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("connection: close");
      adapter().pause();
      assertThat(client.get()).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close");
      assertThat(client.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void aPausedConnectorClosesAKeptAliveConnectionLeftIdle() throws Exception {
    adapter().resume();
    try (var client = new KeptAlive(address())) {
      assertThat(client.get()).startsWith("HTTP/1.1 200");
      adapter().pause();
      assertThat(client.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void onResumeConnectionsAreKeptAliveAgain() throws Exception {
    adapter().resume();
    adapter().pause();
    adapter().resume();
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
