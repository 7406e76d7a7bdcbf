package dev.baton.app.jetty;

import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.app.Listeners;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The drain of long-lived connections, over real sockets on loopback, on one port: WebSockets at
 * /ws with the JDK's client, h2c by prior knowledge with a hand-written frame reader.
 */
class LongLivedDrainTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final Server server = new Server();
  private final List<WebSocketClient> webSockets = new ArrayList<>();
  private final List<H2cClient> h2c = new ArrayList<>();
  private Listeners listeners;
  private JettyListeners jetty;

  @BeforeEach
  void start() throws Exception {
    listeners = Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    HttpConfiguration configuration = new HttpConfiguration();
    jetty = JettyListeners.addTo(server, listeners, configuration);
    for (ServerConnector connector : jetty.connectors()) {
      connector.addConnectionFactory(new HTTP2CServerConnectionFactory(configuration));
    }
    WebSocketUpgradeHandler webSocket =
        WebSocketUpgradeHandler.from(
            server,
            container ->
                container.addMapping("/ws", (request, response, callback) -> new WebSocketEcho()));
    webSocket.setHandler(new Ok());
    server.setHandler(webSocket);
    server.start();
    jetty.resume();
  }

  @AfterEach
  void stop() throws Exception {
    for (WebSocketClient client : webSockets) {
      client.webSocket.abort();
    }
    for (H2cClient client : h2c) {
      client.close();
    }
    server.stop();
    listeners.close();
  }

  @Test
  void drainClosesWebSocketsWith1012AtAnEvenRateOverTheFractionOfTheWindow() throws Exception {
    connectWebSockets(20);
    webSockets.get(0).webSocket.sendText("hello", true).get(2, SECONDS);
    assertThat(webSockets.get(0).texts.poll(2, SECONDS)).isEqualTo("hello");

    long start = System.nanoTime();
    jetty.longLived().drain(Duration.ofSeconds(2), 0.5).get(3, SECONDS);
    long drained = millisSince(start);

    List<Long> closedAt = new ArrayList<>();
    for (WebSocketClient client : webSockets) {
      assertThat(client.closed.get(1, SECONDS)).as("close status").isEqualTo(1012);
      assertThat(client.reason).isEqualTo("service restart");
      closedAt.add(NANOSECONDS.toMillis(client.closedAt - start));
    }
    closedAt.sort(null);
    // One every 50 ms over the first second: 0, 50, ..., 950 ms; at least half of that span.
    assertThat(closedAt.get(19) - closedAt.get(0)).as("first to last close, ms").isGreaterThan(600);
    assertThat(closedAt.stream().filter(at -> at < 250))
        .as("closed in the first 250 ms")
        .hasSizeLessThanOrEqualTo(10);
    assertThat(closedAt.get(19)).as("last close, ms").isLessThan(2000);
    assertThat(drained).as("drain done, ms").isLessThan(2000);
    assertThat(jetty.longLived().open()).isZero();
  }

  @Test
  void endNowClosesAllTheRestAtOnceWith1012() throws Exception {
    connectWebSockets(10);

    // One every 2 s: only the first goes before endNow.
    CompletableFuture<Void> drain = jetty.longLived().drain(Duration.ofSeconds(20), 1);
    Thread.sleep(300);
    long now = System.nanoTime();
    jetty.longLived().endNow();
    drain.get(3, SECONDS);

    int afterNow = 0;
    for (WebSocketClient client : webSockets) {
      assertThat(client.closed.get(1, SECONDS)).as("close status").isEqualTo(1012);
      if (client.closedAt - now >= 0) {
        afterNow++;
        assertThat(NANOSECONDS.toMillis(client.closedAt - now))
            .as("closed after endNow, ms")
            .isLessThan(1000);
      }
    }
    assertThat(afterNow).isEqualTo(9);
    assertThat(jetty.longLived().open()).isZero();
  }

  @Test
  void anH2cConnectionGetsGoAwayTwiceThenIsClosed() throws Exception {
    H2cClient client = connectH2c();

    long start = System.nanoTime();
    CompletableFuture<Void> drain = jetty.longLived().drain(Duration.ofSeconds(10), 0.5);
    await().atMost(4, SECONDS).until(() -> client.closedAt != 0);
    drain.get(1, SECONDS);

    // The first names no stream the client could not still start; the final one, the GET it made.
    assertThat(client.events)
        .containsExactly("answer", "GOAWAY " + Integer.MAX_VALUE, "GOAWAY 1", "closed");
    assertThat(NANOSECONDS.toMillis(client.closedAt - start))
        .as("closed once the client did not answer the final GOAWAY, ms")
        .isBetween(LongLivedDrain.CLOSE_WAIT.toMillis(), 3000L);
    assertThat(jetty.longLived().open()).isZero();
  }

  @Test
  void h2cConnectionsAreSpreadAndEndNowSendsTheRestTheFinalGoAwayAtOnce() throws Exception {
    for (int i = 0; i < 4; i++) {
      connectH2c();
    }

    // One every 2 s: only the first begins before endNow.
    long start = System.nanoTime();
    CompletableFuture<Void> drain = jetty.longLived().drain(Duration.ofSeconds(8), 1);
    Thread.sleep(300);
    long now = System.nanoTime();
    jetty.longLived().endNow();
    drain.get(3, SECONDS);

    int graceful = 0;
    for (H2cClient client : h2c) {
      assertThat(client.events).last().isEqualTo("closed");
      assertThat(client.events).contains("GOAWAY 1");
      if (client.events.contains("GOAWAY " + Integer.MAX_VALUE)) {
        graceful++;
        assertThat(client.goAwayAt.get(0) - start).isLessThan(now - start);
      } else {
        assertThat(client.events).containsExactly("answer", "GOAWAY 1", "closed");
        assertThat(NANOSECONDS.toMillis(client.goAwayAt.get(0) - now)).isBetween(0L, 500L);
      }
    }
    assertThat(graceful).as("begun before endNow").isEqualTo(1);
  }

  @Test
  void theHttpDrainLeavesIdleWebSocketsToTheLongLivedDrain() throws Exception {
    connectWebSockets(2);
    jetty.drain(Duration.ofMillis(1500)).get(3, SECONDS);

    assertThat(webSockets.get(0).closed).isNotDone();
    assertThat(jetty.longLived().open()).isEqualTo(2);
  }

  private H2cClient connectH2c() throws Exception {
    H2cClient client = new H2cClient(address());
    h2c.add(client);
    await().atMost(2, SECONDS).until(() -> client.events.contains("answer"));
    return client;
  }

  private void connectWebSockets(int count) throws Exception {
    URI uri = URI.create("ws://" + address().getHostString() + ":" + address().getPort() + "/ws");
    List<CompletableFuture<WebSocket>> connecting = new ArrayList<>();
    List<WebSocketClient> clients = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      WebSocketClient client = new WebSocketClient();
      clients.add(client);
      connecting.add(http.newWebSocketBuilder().buildAsync(uri, client));
    }
    for (int i = 0; i < count; i++) {
      clients.get(i).webSocket = connecting.get(i).get(5, SECONDS);
      webSockets.add(clients.get(i));
    }
    await().atMost(2, SECONDS).until(() -> jetty.longLived().open() == count);
  }

  private InetSocketAddress address() {
    return (InetSocketAddress) listeners.all().get(0).address();
  }

  private static long millisSince(long start) {
    return NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  private static final class Ok extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      response.write(true, ByteBuffer.wrap("ok\n".getBytes(StandardCharsets.US_ASCII)), callback);
      return true;
    }
  }

  /** The JDK's WebSocket client: when and how it was closed, or how it failed. */
  private static final class WebSocketClient implements WebSocket.Listener {
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    volatile long closedAt;
    volatile String reason = "";
    volatile WebSocket webSocket;

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      texts.add(data.toString());
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closedAt = System.nanoTime();
      this.reason = reason;
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed.completeExceptionally(error);
    }
  }
}
