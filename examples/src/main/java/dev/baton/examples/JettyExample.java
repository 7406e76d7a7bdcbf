package dev.baton.examples;

import dev.baton.app.Baton;
import dev.baton.app.Listeners;
import dev.baton.app.jetty.JettyListeners;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.jspecify.annotations.Nullable;

/**
 * A Jetty 12 app under baton: {@code java -cp ... dev.baton.examples.JettyExample [port]}.
 *
 * <p>On one port: HTTP/1.1, a WebSocket echo at {@code /ws} (text frames sent back), and h2c by
 * prior knowledge (Jetty's HTTP/1.1 connection hands a connection that opens with HTTP/2's preface
 * to the h2c factory), which answers as HTTP/1.1 does. Its drain ends the WebSockets and HTTP/2
 * connections at an even rate over the first half of the drain's window ({@link
 * dev.baton.app.jetty.LongLivedDrain}), and the HTTP/1.1 ones as they go idle.
 */
public final class JettyExample {
  private JettyExample() {}

  /** The part of the drain's window over which the long-lived connections are ended. */
  private static final double LONG_LIVED_FRACTION = 0.5;

  public static void main(String[] args) throws Exception {
    Listeners listeners = Listeners.adoptOr(Reply.fallback(args));
    Server server = new Server();
    HttpConfiguration configuration = new HttpConfiguration();
    JettyListeners jetty = JettyListeners.addTo(server, listeners, configuration);
    for (ServerConnector connector : jetty.connectors()) {
      connector.addConnectionFactory(new HTTP2CServerConnectionFactory(configuration));
    }
    WebSocketUpgradeHandler webSockets =
        WebSocketUpgradeHandler.from(
            server,
            container -> container.addMapping("/ws", (request, response, callback) -> new Echo()));
    webSockets.setHandler(new Answer());
    server.setHandler(webSockets);
    server.start();
    Baton baton =
        UnderBaton.serve(
            jetty,
            listeners,
            () -> {
              drain(jetty, NettyExample.drainWindow());
              server.stop();
            });
    // Hurried by the supervisor: end the long-lived connections left now, not spread.
    baton.onDrainNow(() -> jetty.longLived().endNow());
  }

  /**
   * Stops accepting; ends the WebSockets and HTTP/2 connections at an even rate over the first half
   * of the window, and the HTTP/1.1 ones as they go idle. Returns once none is left, or after the
   * window, having ended the long-lived ones left by then.
   */
  private static void drain(JettyListeners jetty, Duration window) {
    CompletableFuture<Void> unused = jetty.longLived().drain(window, LONG_LIVED_FRACTION);
    // The HTTP drain counts every connection, the long-lived ones too: it tells when they are gone.
    jetty.drain(window).join();
    jetty.longLived().endNow();
  }

  /** The WebSocket at /ws: each text frame sent back. */
  public static final class Echo implements Session.Listener.AutoDemanding {
    // Set on open, before any text arrives.
    private volatile @Nullable Session session;

    @Override
    public void onWebSocketOpen(Session session) {
      this.session = session;
    }

    @Override
    public void onWebSocketText(String text) {
      Session session = this.session;
      if (session != null) {
        session.sendText(text, org.eclipse.jetty.websocket.api.Callback.NOOP);
      }
    }
  }

  private static final class Answer extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      Reply reply = Reply.to(request.getMethod(), Request.getPathInContext(request));
      response.setStatus(reply.status);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
      response.write(
          true, ByteBuffer.wrap(reply.body.getBytes(StandardCharsets.US_ASCII)), callback);
      return true;
    }
  }
}
