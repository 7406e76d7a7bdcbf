package dev.baton.app.jetty;

import dev.baton.app.IdleCloser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.core.WebSocketConnection;

/**
 * Ends the long-lived connections of a drain, the WebSockets and HTTP/2 connections, in ways their
 * clients handle, and not all at once. They outlive any request, so the HTTP drain's {@code
 * Connection: close} never reaches them, and the drain's final SIGKILL would cut them all without a
 * word, every client reconnecting at the same instant.
 *
 * <ul>
 *   <li>A <b>WebSocket</b> of Jetty's WebSocket API (jetty-websocket-jetty-server; found through
 *       the server's {@code ServerWebSocketContainer}s) gets a close frame with status 1012,
 *       Service Restart: {@link WebSocketEnd}.
 *   <li>An <b>HTTP/2</b> connection (jetty-http2-server, by prior knowledge or upgrade; found among
 *       the connectors' connections) gets GOAWAY twice, first with the highest stream id, then the
 *       final one: {@link Http2End}.
 * </ul>
 *
 * <p>{@link #drain} ends them at an even rate over a fraction of the drain's window, so that the
 * reconnects reach the next generation as a stream and not a storm: with 2,000 of them, a 60 s
 * window and a fraction of 0.5, about 67 a second over the first 30 s. {@link #endNow} ends all the
 * rest at once, for when the drain must hurry. The pace is kept by the drain's own thread, which
 * looks every 20 ms (see {@link IdleCloser#drain}).
 *
 * <p>Without jetty-websocket-jetty-server or jetty-http2-common there are no such connections of
 * that kind, and the classes that link against them are never loaded. WebSockets served through
 * Jetty's WebSocket core alone, with no container keeping track of them, are not found.
 */
public final class LongLivedDrain {

  /** How long a connection that was sent its end waits for the client's answer before closing. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

  /**
   * Between an HTTP/2 connection's two GOAWAYs at most: time for the streams the client started
   * before it read the first one to arrive, a round trip and then some.
   */
  static final Duration GOAWAY_GRACE = Duration.ofSeconds(1);

  private static final boolean WEBSOCKET =
      present("org.eclipse.jetty.websocket.server.ServerWebSocketContainer");
  private static final boolean WEBSOCKET_CORE =
      present("org.eclipse.jetty.websocket.core.WebSocketConnection");
  private static final boolean HTTP2 = present("org.eclipse.jetty.http2.HTTP2Connection");

  private final Server server;

  /** The probe's aside: the supervisor's connections are never long-lived. */
  private final List<? extends ServerConnector> connectors;

  /** Those whose end has begun, until they close. */
  private final Set<LongLived> ending = ConcurrentHashMap.newKeySet();

  LongLivedDrain(Server server, List<? extends ServerConnector> connectors) {
    this.server = server;
    this.connectors = List.copyOf(connectors);
  }

  /** How many long-lived connections are open now, those being ended included. */
  public int open() {
    ending.removeIf(longLived -> !longLived.isOpen());
    return all().size();
  }

  /**
   * Ends the long-lived connections at an even rate over {@code fraction} of {@code window}: of the
   * n open now, the i-th is ended at i/n of it; any opened since are ended once that part is over.
   * Returns at once; the future completes when none is left open, or once the window is over,
   * whichever comes first.
   *
   * @param window the drain's, from its start until the supervisor kills the process
   * @param fraction of the window over which to spread the ends, from 0 (all at once) to 1; 0.5
   *     leaves the second half for the last ones to close and their clients to reconnect
   */
  public CompletableFuture<Void> drain(Duration window, double fraction) {
    if (window.isNegative()) {
      throw new IllegalArgumentException("window " + window + " is negative");
    }
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException("fraction " + fraction + " is not between 0 and 1");
    }
    Spread spread = new Spread(notEnding(), (long) (window.toNanos() * fraction));
    // The first one now, before the drain's thread starts: all of them if the fraction is 0, even
    // with no window left.
    spread.run();
    return IdleCloser.drain("drain long-lived Jetty connections", spread, this::open, window);
  }

  /**
   * Ends every long-lived connection left, at once: WebSockets get their close frame, HTTP/2
   * connections their final GOAWAY (the first skipped, or the grace cut short). For a drain that
   * must hurry; a drain in progress completes once they are closed. Returns at once.
   */
  public void endNow() {
    for (LongLived longLived : all()) {
      ending.add(longLived);
      longLived.finish();
    }
  }

  /**
   * Whether the connection is a WebSocket or HTTP/2 one, which this class ends and the HTTP drain
   * must leave alone.
   */
  static boolean isLongLived(Connection connection) {
    return (WEBSOCKET_CORE && CoreWebSocket.is(connection)) || (HTTP2 && Http2End.is(connection));
  }

  /** The pace of one drain: run once by its caller, then by its thread every 20 ms. */
  private final class Spread implements Runnable {
    private final List<LongLived> queue;
    private final long spreadNanos;
    private final long start = System.nanoTime();
    private int ended;

    Spread(List<LongLived> queue, long spreadNanos) {
      this.queue = queue;
      this.spreadNanos = spreadNanos;
    }

    @Override
    public void run() {
      long elapsed = System.nanoTime() - start;
      int n = queue.size();
      int due = elapsed >= spreadNanos ? n : (int) (n * elapsed / spreadNanos) + 1;
      while (ended < due) {
        begin(queue.get(ended++));
      }
      if (elapsed >= spreadNanos) {
        notEnding().forEach(LongLivedDrain.this::begin);
      }
    }
  }

  private void begin(LongLived longLived) {
    if (longLived.isOpen() && ending.add(longLived)) {
      longLived.begin();
    }
  }

  private List<LongLived> notEnding() {
    List<LongLived> notEnding = new ArrayList<>(all());
    notEnding.removeAll(ending);
    return notEnding;
  }

  /** The open ones, looked up anew: Jetty keeps track of them, and this class need not. */
  private List<LongLived> all() {
    List<LongLived> all = new ArrayList<>();
    if (WEBSOCKET) {
      all.addAll(WebSocketEnd.all(server));
    }
    if (HTTP2) {
      all.addAll(Http2End.all(connectors));
    }
    all.removeIf(longLived -> !longLived.isOpen());
    return all;
  }

  /**
   * A WebSocket of the API's or of the core's: the HTTP drain leaves it alone, since closing it
   * when idle would end it without a close frame. A class of its own, loaded only with the core
   * there.
   */
  private static final class CoreWebSocket {
    static boolean is(Connection connection) {
      return connection instanceof WebSocketConnection;
    }
  }

  private static boolean present(String className) {
    try {
      Class.forName(className, false, LongLivedDrain.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
