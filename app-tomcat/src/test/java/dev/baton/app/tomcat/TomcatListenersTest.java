package dev.baton.app.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.app.Listener;
import dev.baton.app.Listeners;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TomcatListenersTest {
  @TempDir Path dir;
  private Listeners listeners;
  private Listener listener;
  private Tomcat tomcat;
  private TomcatListeners connectors;

  @BeforeEach
  void start() throws Exception {
    listeners = Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    listener = listeners.all().get(0);
    tomcat = new Tomcat();
    tomcat.setBaseDir(dir.toString());
    var context = tomcat.addContext("", null);
    Tomcat.addServlet(
        context,
        "ok",
        new HttpServlet() {
          @Override
          protected void doGet(HttpServletRequest request, HttpServletResponse response)
              throws IOException {
            response.getWriter().print("ok\n");
          }
        });
    context.addServletMappingDecoded("/*", "ok", /* jspWildCard= */ false);
    connectors = TomcatListeners.create(listeners);
    connectors.connectors().forEach(tomcat.getService()::addConnector);
    tomcat.start();
  }

  @AfterEach
  void stop() throws Exception {
    tomcat.stop();
    tomcat.destroy();
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
    connectors.resume();
    assertThat(Client.get(address(), "/")).startsWith("HTTP/1.1 200").endsWith("ok\n");
  }

  @Test
  void afterPauseReturnsNotOneMoreConnectionIsAcceptedThoughTheAcceptorWasWaitingForOne() throws Exception {
    for (int i = 0; i < 20; i++) {
      connectors.resume();
      assertThat(Client.get(address(), "/")).as("round %d", i).startsWith("HTTP/1.1 200");
      // Tomcat's acceptor thread is now waiting for the next connection, as it was blocked in accept() before.
      connectors.pause();
      try (var queued = Client.send(address(), "/")) {
        var accepted = Client.acceptWithin(listener.channel(), Duration.ofSeconds(2));
        assertThat(accepted).as("round %d: the connection stayed in the queue for another", i).isPresent();
        accepted.get().close();
      }
    }
  }

  @Test
  void drainCompletesWhenNoConnectionIsLeftAndAcceptsNothingMore() throws Exception {
    connectors.resume();
    assertThat(Client.get(address(), "/")).startsWith("HTTP/1.1 200");
    assertThat(connectors.drain(Duration.ofSeconds(5))).succeedsWithin(Duration.ofSeconds(3));
    try (var queued = Client.send(address(), "/")) {
      assertThat(Client.acceptWithin(listener.channel(), Duration.ofSeconds(2))).isPresent();
    }
  }
}
