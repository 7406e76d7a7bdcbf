package dev.baton.examples;

import dev.baton.app.Baton;
import dev.baton.app.Listeners;
import dev.baton.app.netty.NettyListeners;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Netty 4.2 NIO app under baton: {@code java -cp ... dev.baton.examples.NettyExample [port]}.
 *
 * <p>On one port: HTTP/1.1, a WebSocket echo at {@code /ws} (text frames sent back), and h2c by
 * prior knowledge (a connection that opens with HTTP/2's preface), which answers {@code GET /} as
 * HTTP/1.1 does. Its drain ends the WebSockets and HTTP/2 connections at an even rate over the
 * first half of the drain's window ({@link dev.baton.app.netty.LongLivedDrain}), and the HTTP/1.1
 * ones as they go idle.
 */
public final class NettyExample {
  private NettyExample() {}

  /** The part of the drain's window over which the long-lived connections are ended. */
  private static final double LONG_LIVED_FRACTION = 0.5;

  /** Every accepted connection, until it closes: what a drain waits for. */
  private static final ChannelGroup OPEN = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  /** Set once, at the drain: responses say Connection: close from then on. */
  private static volatile boolean draining;

  public static void main(String[] args) throws Exception {
    Listeners listeners = Listeners.adoptOr(Reply.fallback(args));
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    OPEN.add(channel);
                    // HTTP/1.1 until the first bytes say HTTP/2; the codec is in from the start,
                    // where the adapter looks for it.
                    channel.pipeline().addLast(new PriorKnowledge(), new HttpServerCodec());
                  }
                });
    NettyListeners netty = NettyListeners.register(bootstrap, listeners);
    Baton baton =
        UnderBaton.serve(
            netty,
            listeners,
            () -> {
              drain(netty, drainWindow());
              group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            });
    // Hurried by the supervisor: end the long-lived connections left now, not spread.
    baton.onDrainNow(() -> netty.longLived().endNow());
  }

  /**
   * How long the supervisor lets the drain take before it kills: BATON_DRAIN_TIMEOUT, in
   * milliseconds, or {@link Reply#DRAIN} when not under baton.
   */
  static Duration drainWindow() {
    String millis = System.getenv("BATON_DRAIN_TIMEOUT");
    try {
      return millis == null ? Reply.DRAIN : Duration.ofMillis(Long.parseLong(millis.trim()));
    } catch (NumberFormatException e) {
      return Reply.DRAIN;
    }
  }

  /**
   * Stops accepting; ends the WebSockets and HTTP/2 connections at an even rate over the first half
   * of the window; answers each further HTTP/1.1 request with {@code Connection: close}, and closes
   * the HTTP/1.1 connections that stay idle for a second: closing one a client is sending on would
   * lose that request. Returns once none is left, or after the window, having ended the long-lived
   * ones left by then.
   */
  private static void drain(NettyListeners netty, Duration window) {
    netty.close();
    draining = true;
    // OPEN counts the long-lived connections too: it tells when they are gone.
    CompletableFuture<Void> unused = netty.longLived().drain(window, LONG_LIVED_FRACTION);
    for (Channel channel : OPEN) {
      if (channel.pipeline().get(HttpServerCodec.class) != null) {
        // Still HTTP/1.1, or nothing read yet: neither a WebSocket nor HTTP/2.
        channel.pipeline().addFirst(new IdleStateHandler(0, 0, 1, TimeUnit.SECONDS));
      }
    }
    long deadline = System.nanoTime() + window.toNanos();
    while (!OPEN.isEmpty() && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      }
    }
    netty.longLived().endNow();
  }

  /**
   * h2c by prior knowledge: a connection whose first bytes are HTTP/2's preface speaks HTTP/2, each
   * stream answered as an HTTP/1.1 request would be; any other speaks HTTP/1.1, with the WebSocket
   * at /ws. Decided on the first bytes, then out of the way.
   */
  private static final class PriorKnowledge extends ByteToMessageDecoder {
    private static final byte[] PREFACE =
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    @Override
    protected void decode(ChannelHandlerContext context, ByteBuf in, List<Object> out) {
      int length = Math.min(in.readableBytes(), PREFACE.length);
      for (int i = 0; i < length; i++) {
        if (in.getByte(in.readerIndex() + i) != PREFACE[i]) {
          http1(context.pipeline());
          return;
        }
      }
      if (length == PREFACE.length) {
        http2(context.pipeline());
      }
    }

    /** HTTP/1.1 and WebSockets, after the codec (and after the adapter's handler next to it). */
    private void http1(ChannelPipeline pipeline) {
      pipeline.addLast(
          new HttpObjectAggregator(1 << 16),
          new WebSocketServerProtocolHandler("/ws"),
          ECHO,
          ANSWER);
      pipeline.remove(this); // passes the bytes read so far on to the codec
    }

    /**
     * HTTP/2: the frame codec in place of this, each stream a child channel with its own pipeline.
     */
    private void http2(ChannelPipeline pipeline) {
      pipeline.remove(HttpServerCodec.class);
      // The bytes read so far go on to the codec once this returns.
      pipeline.replace(this, "h2", Http2FrameCodecBuilder.forServer().build());
      pipeline.addAfter("h2", null, new Http2MultiplexHandler(HTTP2_STREAM));
    }

    /** Draining, and nothing read yet: no request to lose. */
    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) throws Exception {
      if (event instanceof IdleStateEvent) {
        ChannelFuture unused = context.close();
      } else {
        super.userEventTriggered(context, event);
      }
    }
  }

  /** An HTTP/2 stream, turned into HTTP/1.1 objects for {@link #ANSWER}. */
  private static final ChannelHandler HTTP2_STREAM =
      new ChannelInitializer<Http2StreamChannel>() {
        @Override
        protected void initChannel(Http2StreamChannel stream) {
          stream
              .pipeline()
              .addLast(
                  new Http2StreamFrameToHttpObjectCodec(true),
                  new HttpObjectAggregator(1 << 16),
                  ANSWER);
        }
      };

  private static final ChannelHandler ECHO = new Echo();

  /** The WebSocket at /ws: each text frame sent back. */
  @ChannelHandler.Sharable
  private static final class Echo extends SimpleChannelInboundHandler<TextWebSocketFrame> {
    @Override
    protected void channelRead0(ChannelHandlerContext context, TextWebSocketFrame frame) {
      ChannelFuture unused = context.writeAndFlush(new TextWebSocketFrame(frame.text()));
    }
  }

  private static final ChannelHandler ANSWER = new Answer();

  @ChannelHandler.Sharable
  private static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request) {
      Reply reply = Reply.to(request.method().name(), new QueryStringDecoder(request.uri()).path());
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.valueOf(reply.status),
              Unpooled.copiedBuffer(reply.body, StandardCharsets.US_ASCII));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
      response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body.length());
      boolean keepAlive = HttpUtil.isKeepAlive(request) && !draining;
      HttpUtil.setKeepAlive(response, keepAlive);
      ChannelFuture written = context.writeAndFlush(response);
      if (!keepAlive) {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) {
      if (event instanceof IdleStateEvent
          && context.pipeline().get(HttpServerCodec.class) != null) {
        // Draining, and idle for a second; not a WebSocket, which the drain ends.
        ChannelFuture unused = context.close();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
      ChannelFuture unused = context.close();
    }
  }
}
