package dev.baton.app.netty;

import dev.baton.app.IdleCloser;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * Ends the long-lived connections of a drain, the WebSockets and HTTP/2 connections, in ways their
 * clients handle, and not all at once. They outlive any request, so the HTTP drain's {@code
 * Connection: close} never reaches them, and the drain's final SIGKILL would cut them all without a
 * word, every client reconnecting at the same instant.
 *
 * <ul>
 *   <li>A <b>WebSocket</b>, once its handshake is done (netty-codec-http's websocketx: a {@code
 *       WebSocketFrameEncoder} in the pipeline, the HTTP codec gone), gets a close frame with
 *       status 1012, Service Restart, and is closed once the client's close frame comes back, or
 *       after {@link #CLOSE_WAIT}. Frames the app writes after it are dropped (the protocol allows
 *       none).
 *   <li>An <b>HTTP/2</b> connection (netty-codec-http2: an {@code Http2ConnectionHandler}, {@code
 *       Http2FrameCodec} for one, in the pipeline, by prior knowledge or upgrade) gets GOAWAY
 *       twice: first with the highest stream id, 2^31-1, which tells the client to open its next
 *       streams elsewhere but still takes the ones already on their way; after {@link
 *       #GOAWAY_GRACE}, the final one with the last stream id it took. It closes once no stream is
 *       active (Netty's handler waits up to its graceful shutdown timeout).
 * </ul>
 *
 * <p>{@link #drain} ends them at an even rate over a fraction of the drain's window, so that the
 * reconnects reach the next generation as a stream and not a storm: with 2,000 of them, a 60 s
 * window and a fraction of 0.5, about 67 a second over the first 30 s. {@link #endNow} ends all the
 * rest at once, for when the drain must hurry.
 *
 * <p>Each connection is ended on its event loop; the pace is kept by the drain's own thread, which
 * looks every 20 ms (see {@link IdleCloser#drain}). Connections that speak neither are left to the
 * HTTP drain. Without netty-codec-http or netty-codec-http2 there are no such connections of that
 * kind, and the classes that link against them are never loaded.
 */
public final class LongLivedDrain {

  /** How long a WebSocket that was sent its close frame waits for the client's before closing. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

  /**
   * Between an HTTP/2 connection's two GOAWAYs: time for the streams the client started before it
   * read the first one to arrive, a round trip and then some.
   */
  static final Duration GOAWAY_GRACE = Duration.ofSeconds(1);

  private static final boolean WEBSOCKET =
      KeptAliveRelease.present("io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder");
  private static final boolean HTTP2 =
      KeptAliveRelease.present("io.netty.handler.codec.http2.Http2ConnectionHandler");

  /** Set on a connection once its end has begun; written on its event loop only. */
  private static final AttributeKey<Boolean> ENDING =
      AttributeKey.valueOf(LongLivedDrain.class, "ending");

  /** The connections accepted and still open, long-lived or not yet, or never. */
  private final Set<Channel> connections = ConcurrentHashMap.newKeySet();

  LongLivedDrain() {}

  /** Follows a connection from its start until it closes. */
  void follow(Channel channel) {
    connections.add(channel);
    channel.closeFuture().addListener(future -> connections.remove(channel));
  }

  /** How many long-lived connections are open now, those being ended included. */
  public int open() {
    int open = 0;
    for (Channel channel : connections) {
      if (channel.isOpen() && isLongLived(channel)) {
        open++;
      }
    }
    return open;
  }

  /**
   * Ends the long-lived connections at an even rate over {@code fraction} of {@code window}: of the
   * n open now, the i-th is ended at i/n of it; any that became long-lived since (a WebSocket
   * handshake on a kept-alive connection) are ended once that part is over. Returns at once; the
   * future completes when none is left open, or once the window is over, whichever comes first.
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
    return IdleCloser.drain("drain long-lived Netty connections", spread, this::open, window);
  }

  /**
   * Ends every long-lived connection left, at once: WebSockets get their close frame, HTTP/2
   * connections their final GOAWAY (the first skipped, or the grace cut short). For a drain that
   * must hurry; a drain in progress completes once they are closed. Returns at once.
   */
  public void endNow() {
    for (Channel channel : connections) {
      if (isLongLived(channel)) {
        end(channel, true);
      }
    }
  }

  /** The pace of one drain: run once by its caller, then by its thread every 20 ms. */
  private final class Spread implements Runnable {
    private final List<Channel> queue;
    private final long spreadNanos;
    private final long start = System.nanoTime();
    private int ended;

    Spread(List<Channel> queue, long spreadNanos) {
      this.queue = queue;
      this.spreadNanos = spreadNanos;
    }

    @Override
    public void run() {
      long elapsed = System.nanoTime() - start;
      int n = queue.size();
      int due = elapsed >= spreadNanos ? n : (int) (n * elapsed / spreadNanos) + 1;
      while (ended < due) {
        end(queue.get(ended++), false);
      }
      if (elapsed >= spreadNanos) {
        for (Channel channel : notEnding()) {
          end(channel, false);
        }
      }
    }
  }

  /** The long-lived connections whose end has not begun. */
  private List<Channel> notEnding() {
    List<Channel> notEnding = new ArrayList<>();
    for (Channel channel : connections) {
      if (channel.isActive() && !channel.hasAttr(ENDING) && isLongLived(channel)) {
        notEnding.add(channel);
      }
    }
    return notEnding;
  }

  /** Reads the pipeline, which Netty allows from any thread. */
  private static boolean isLongLived(Channel channel) {
    return (WEBSOCKET && WebSocketEnd.is(channel)) || (HTTP2 && Http2End.is(channel));
  }

  private static void end(Channel channel, boolean now) {
    try {
      channel.eventLoop().execute(() -> endInEventLoop(channel, now));
    } catch (RejectedExecutionException e) {
      // The event loop is shutting down, and closes the channel as it does.
    }
  }

  /**
   * Begins the connection's end, unless begun already; {@code now}, an HTTP/2 connection's end is
   * finished too.
   */
  private static void endInEventLoop(Channel channel, boolean now) {
    if (!channel.isActive()) {
      return;
    }
    boolean begun = channel.hasAttr(ENDING);
    if (WEBSOCKET && WebSocketEnd.is(channel)) {
      channel.attr(ENDING).set(true);
      if (!begun) {
        WebSocketEnd.end(channel);
      }
    } else if (HTTP2 && Http2End.is(channel)) {
      channel.attr(ENDING).set(true);
      if (now) {
        Http2End.finish(channel);
      } else if (!begun) {
        Http2End.begin(channel);
      }
    }
  }
}
