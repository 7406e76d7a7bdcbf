package dev.baton.app.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * What an adapter that owns its server's HTTP connections does besides {@link KeptAliveContract},
 * as Jetty's and Tomcat's do: it drains.
 */
public abstract class HttpAdapterContract extends KeptAliveContract {

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
}
