package dev.baton.app.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The end of a WebSocket in a drain: a close frame with 1012, Service Restart, from the server,
 * then the connection closed once the client's close frame comes back, or after {@link
 * LongLivedDrain#CLOSE_WAIT}. The server closes first, as RFC 6455 would have it.
 *
 * <p>Only {@link LongLivedDrain} loads this class, and only when netty-codec-http is there.
 */
final class WebSocketEnd extends ChannelDuplexHandler {

  static final String NAME = "baton-websocket-end";

  private WebSocketEnd() {}

  /**
   * Whether the channel is a WebSocket whose handshake is done: Netty's handshaker puts the frame
   * codec in and takes the HTTP one out once the 101 answer is written.
   */
  static boolean is(Channel channel) {
    ChannelPipeline pipeline = channel.pipeline();
    return pipeline.get(WebSocketFrameEncoder.class) != null
        && pipeline.get(WebSocketFrameDecoder.class) != null
        && pipeline.get(HttpServerCodec.class) == null
        && pipeline.get(HttpResponseEncoder.class) == null;
  }

  /**
   * Sends the close frame, from just after the frame decoder, where the app's handlers cannot see
   * the client's close frame come back: the app learns of the end when the channel closes. On the
   * event loop.
   */
  static void end(Channel channel) {
    ChannelPipeline pipeline = channel.pipeline();
    @Nullable ChannelHandlerContext decoder = pipeline.context(WebSocketFrameDecoder.class);
    if (decoder == null || pipeline.get(NAME) != null) {
      return;
    }
    pipeline.addAfter(decoder.name(), NAME, new WebSocketEnd());
    ChannelHandlerContext end = pipeline.context(NAME);
    ChannelFuture unused =
        end.writeAndFlush(
            new CloseWebSocketFrame(WebSocketCloseStatus.SERVICE_RESTART, "service restart"));
    Future<?> timeout =
        channel
            .eventLoop()
            .schedule(
                () -> close(channel), LongLivedDrain.CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    channel.closeFuture().addListener(future -> timeout.cancel(false));
  }

  private static void close(Channel channel) {
    ChannelFuture unused = channel.close();
  }

  /** The client's close frame: the closing handshake is done, and the server closes. */
  @Override
  public void channelRead(ChannelHandlerContext context, Object message) {
    if (message instanceof CloseWebSocketFrame) {
      ReferenceCountUtil.release(message);
      ChannelFuture unused = context.channel().close();
    } else {
      context.fireChannelRead(message);
    }
  }

  /** No frame may follow the close frame: the app's are dropped, as if the channel were closed. */
  @Override
  public void write(ChannelHandlerContext context, Object message, ChannelPromise promise) {
    if (message instanceof WebSocketFrame) {
      ReferenceCountUtil.release(message);
      promise.tryFailure(new ClosedChannelException());
    } else {
      ChannelFuture unused = context.write(message, promise);
    }
  }
}
