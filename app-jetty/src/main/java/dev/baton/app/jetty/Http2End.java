package dev.baton.app.jetty;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.HTTP2Connection;
import org.eclipse.jetty.http2.HTTP2Session;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.util.Callback;

/**
 * The end of an HTTP/2 connection in a drain, in RFC 9113's (6.8) two steps, which Jetty's {@link
 * HTTP2Session#shutdown()} takes: a GOAWAY with the highest stream id, 2^31-1 ({@code
 * GoAwayFrame.GRACEFUL}), so that the client opens its next streams elsewhere while the ones on
 * their way are still taken; then the final GOAWAY with the last stream id taken, which Jetty sends
 * as soon as no stream is active. A stream that stays active does not hold the connection up: after
 * {@link LongLivedDrain#GOAWAY_GRACE} the final GOAWAY is sent anyway, and once no stream is left,
 * or after {@link LongLivedDrain#CLOSE_WAIT} (Jetty waits for the client's own GOAWAY), the
 * connection is closed.
 *
 * <p>Only {@link LongLivedDrain} loads this class, and only when jetty-http2-common is there.
 */
record Http2End(HTTP2Connection connection) implements LongLived {

  /** The HTTP/2 connections the connectors accepted, by prior knowledge or upgrade. */
  static List<LongLived> all(List<? extends Connector> connectors) {
    List<LongLived> all = new ArrayList<>();
    for (Connector connector : connectors) {
      for (EndPoint endPoint : connector.getConnectedEndPoints()) {
        if (endPoint.getConnection() instanceof HTTP2Connection http2) {
          all.add(new Http2End(http2));
        }
      }
    }
    return all;
  }

  static boolean is(Connection connection) {
    return connection instanceof HTTP2Connection;
  }

  @Override
  public boolean isOpen() {
    return connection.getEndPoint().isOpen();
  }

  @Override
  public void begin() {
    CompletableFuture<Void> unused = connection.getSession().shutdown();
    later(LongLivedDrain.GOAWAY_GRACE.toMillis(), this::finish);
  }

  /**
   * The final GOAWAY: Jetty's session sends it unless it has already, with the last stream the
   * client started.
   */
  @Override
  public void finish() {
    connection.getSession().close(ErrorCode.NO_ERROR.code, "service restart", Callback.NOOP);
    later(LongLivedDrain.CLOSE_WAIT.toMillis(), this::closeIfIdle);
  }

  /** Closing with a stream active would lose its answer; the drain's end takes those. */
  private void closeIfIdle() {
    if (connection.getSession().getStreams().isEmpty()) {
      connection.getEndPoint().close();
    }
  }

  private static void later(long millis, Runnable action) {
    CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS).execute(action);
  }
}
