package dev.baton.app.netty;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The end of an HTTP/2 connection in a drain, in two steps as RFC 9113 (6.8) advises for a graceful
 * shutdown: a GOAWAY with the highest stream id, 2^31-1, so that the client opens its next streams
 * on a new connection while the streams it already sent are still taken; after {@link
 * LongLivedDrain#GOAWAY_GRACE}, the final GOAWAY with the last stream id taken, and the connection
 * closed once none is active.
 *
 * <p>Only {@link LongLivedDrain} loads this class, and only when netty-codec-http2 is there.
 */
final class Http2End {

  private static final int HIGHEST_STREAM_ID = Integer.MAX_VALUE;

  private Http2End() {}

  /** Whether the channel speaks HTTP/2 through Netty's connection handler. */
  static boolean is(Channel channel) {
    return channel.pipeline().get(Http2ConnectionHandler.class) != null;
  }

  /** The first GOAWAY; the final one follows after the grace. On the event loop. */
  static void begin(Channel channel) {
    @Nullable ChannelHandlerContext context =
        channel.pipeline().context(Http2ConnectionHandler.class);
    if (context == null) {
      return;
    }
    goAway(context, HIGHEST_STREAM_ID);
    Future<?> unused =
        channel
            .eventLoop()
            .schedule(
                () -> finish(channel),
                LongLivedDrain.GOAWAY_GRACE.toMillis(),
                TimeUnit.MILLISECONDS);
  }

  /**
   * The final GOAWAY, with the last stream the client started, then the close: Netty's handler,
   * which GOAWAY has been sent through, closes once no stream is active. On the event loop; again
   * on a connection finished already, nothing new is sent.
   */
  static void finish(Channel channel) {
    @Nullable ChannelHandlerContext context =
        channel.pipeline().context(Http2ConnectionHandler.class);
    if (!channel.isActive() || context == null) {
      return;
    }
    Http2ConnectionHandler handler = (Http2ConnectionHandler) context.handler();
    goAway(context, handler.connection().remote().lastStreamCreated());
    // Through the whole pipeline, so through the handler's graceful close.
    ChannelFuture unused = channel.close();
  }

  private static void goAway(ChannelHandlerContext context, int lastStreamId) {
    Http2ConnectionHandler handler = (Http2ConnectionHandler) context.handler();
    ChannelFuture unused =
        handler.goAway(
            context,
            lastStreamId,
            Http2Error.NO_ERROR.code(),
            Unpooled.EMPTY_BUFFER,
            context.newPromise());
    context.flush();
  }
}
