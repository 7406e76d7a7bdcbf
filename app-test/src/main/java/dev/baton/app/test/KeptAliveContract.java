package dev.baton.app.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * What an adapter whose server speaks HTTP/1.1 does besides {@link AdapterContract}, as Jetty's,
 * Tomcat's and Netty's do: paused, it lets go of kept-alive connections too ({@code Connection:
 * close} on the next answer, closed once idle), since a client that pools connections, HAProxy for
 * one, would go on talking to a parked generation; resumed, it keeps them alive again. The server
 * {@link #start} makes must keep connections alive unless asked not to.
 */
public abstract class KeptAliveContract extends AdapterContract {

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
