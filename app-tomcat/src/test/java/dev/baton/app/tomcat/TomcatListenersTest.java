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
  void afterPauseReturnsNotOneMoreConnectionIsAcceptedThoughTheAcceptorWasWaitingForOne()
      throws Exception {
    for (int i = 0; i < 20; i++) {
      connectors.resume();
      assertThat(Client.get(address(), "/")).as("round %d", i).startsWith("HTTP/1.1 200");
      // Tomcat's acceptor thread is now waiting for the next connection, as it was blocked in
      // accept() before.
      connectors.pause();
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
  void drainCompletesWhenNoConnectionIsLeftAndAcceptsNothingMore() throws Exception {
    connectors.resume();
    assertThat(Client.get(address(), "/")).startsWith("HTTP/1.1 200");
    assertThat(connectors.drain(Duration.ofSeconds(5))).succeedsWithin(Duration.ofSeconds(3));
    try (var queued = Client.send(address(), "/")) {
      assertThat(Client.acceptWithin(listener.channel(), Duration.ofSeconds(2))).isPresent();
    }
  }

  @Test
  void aPausedConnectorAnswersAKeptAliveConnectionWithConnectionCloseThenClosesIt()
      throws Exception {
    connectors.resume();
    try (var client = new KeptAlive(address())) {
      assertThat(client.get())
          .startsWith("HTTP/1.1 200")
          .doesNotContainIgnoringCase("connection: close");
      connectors.pause();
      assertThat(client.get()).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close");
      assertThat(client.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void aPausedConnectorClosesAKeptAliveConnectionLeftIdle() throws Exception {
    connectors.resume();
    try (var client = new KeptAlive(address())) {
      assertThat(client.get()).startsWith("HTTP/1.1 200");
      connectors.pause();
      assertThat(client.closedWithin(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void onResumeConnectionsAreKeptAliveAgain() throws Exception {
    connectors.resume();
    connectors.pause();
    connectors.resume();
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

  /**
   * One HTTP/1.1 connection, kept open between requests; answers read by Content-Length or chunks.
   */
  private static final class KeptAlive implements AutoCloseable {
    private final java.net.Socket socket = new java.net.Socket();
    private final java.io.InputStream in;

    KeptAlive(InetSocketAddress address) throws IOException {
      socket.connect(address, 2000);
      socket.setSoTimeout(5000);
      in = new java.io.BufferedInputStream(socket.getInputStream());
    }

    String get() throws IOException {
      socket
          .getOutputStream()
          .write(
              "GET / HTTP/1.1\r\nHost: test\r\n\r\n"
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      var head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int c = in.read();
        if (c < 0) {
          throw new IOException("closed after " + head);
        }
        head.append((char) c);
      }
      var text = head.toString().toLowerCase(java.util.Locale.ROOT);
      if (text.contains("transfer-encoding: chunked")) {
        for (int size = chunkSize(); size > 0; size = chunkSize()) {
          in.readNBytes(size + 2);
        }
        in.readNBytes(2);
      } else {
        var m = java.util.regex.Pattern.compile("content-length: (\\d+)").matcher(text);
        in.readNBytes(m.find() ? Integer.parseInt(m.group(1)) : 0);
      }
      return head.toString();
    }

    private int chunkSize() throws IOException {
      var line = new StringBuilder();
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new IOException("closed in a chunk");
        }
        line.append((char) c);
      }
      return Integer.parseInt(line.toString().trim(), 16);
    }

    /** Whether the server closes the connection within {@code time}, sending nothing more. */
    boolean closedWithin(Duration time) throws IOException {
      socket.setSoTimeout((int) time.toMillis());
      try {
        return in.read() == -1;
      } catch (java.net.SocketTimeoutException e) {
        return false;
      } catch (java.net.SocketException e) {
        return true; // reset
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
