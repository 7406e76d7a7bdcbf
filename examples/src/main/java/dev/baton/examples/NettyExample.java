package dev.baton.examples;

import dev.baton.app.Listeners;
import dev.baton.app.netty.NettyListeners;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
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
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** A Netty 4.2 NIO app under baton: {@code java -cp ... dev.baton.examples.NettyExample [port]}. */
public final class NettyExample {
  private NettyExample() {}

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
                    channel
                        .pipeline()
                        .addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16), ANSWER);
                  }
                });
    NettyListeners netty = NettyListeners.register(bootstrap, listeners);
    UnderBaton.serve(
        netty,
        listeners,
        () -> {
          drain(netty);
          group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        });
  }

  /**
   * Stops accepting, answers each further request with {@code Connection: close}, and closes the
   * connections that stay idle for a second: closing one a client is sending on would lose that
   * request. Returns once none is left, or after {@link Reply#DRAIN}.
   */
  private static void drain(NettyListeners netty) {
    netty.close();
    draining = true;
    for (Channel channel : OPEN) {
      channel.pipeline().addFirst(new IdleStateHandler(0, 0, 1, TimeUnit.SECONDS));
    }
    long deadline = System.nanoTime() + Reply.DRAIN.toNanos();
    while (!OPEN.isEmpty() && System.nanoTime() - deadline < 0) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      }
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
      if (event instanceof IdleStateEvent) {
        context.close(); // draining, and idle for a second
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
      context.close();
    }
  }
}
