package dev.baton.app.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.app.Baton;
import dev.baton.app.Listeners;
import dev.baton.app.test.KeptAliveContract;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NettyListenersTest extends KeptAliveContract {
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private NettyListeners netty;

  /** Answers every request with 200 and "ok\n", keeping the connection unless the client closes. */
  @ChannelHandler.Sharable
  private static final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request) {
      var response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.OK,
              Unpooled.copiedBuffer("ok\n", StandardCharsets.US_ASCII));
      HttpUtil.setContentLength(response, 3);
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      HttpUtil.setKeepAlive(response, keepAlive);
      var written = context.writeAndFlush(response);
      if (!keepAlive) {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }
  }

  @Override
  protected Baton.Acceptor start(Listeners listeners) throws Exception {
    var answer = new Answer();
    var bootstrap =
        new ServerBootstrap()
            .group(group)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    channel
                        .pipeline()
                        .addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16), answer);
                  }
                });
    netty = NettyListeners.register(bootstrap, listeners);
    return netty;
  }

  @Override
  protected void stop() throws Exception {
    netty.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  @Test
  void aPausedListenerLeavesAloneAConnectionThatDoesNotSpeakHttpThroughNettysCodec()
      throws Exception {
    try (var listeners =
        Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      var echo =
          new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext context, Object message) {
              var unused = context.writeAndFlush(message);
            }
          };
      var raw =
          NettyListeners.register(new ServerBootstrap().group(group).childHandler(echo), listeners);
      raw.resume();
      try (var socket = new Socket()) {
        socket.connect(listeners.all().get(0).address(), 2000);
        socket.setSoTimeout(1500);
        socket.getOutputStream().write('x');
        assertThat(socket.getInputStream().read()).isEqualTo('x');
        raw.pause();
        assertThatThrownBy(() -> socket.getInputStream().read())
            .as("still open, idle for longer than a paused HTTP connection may be")
            .isInstanceOf(SocketTimeoutException.class);
      } finally {
        raw.close();
      }
    }
  }

  @Test
  void closeClosesThisProcesssChannelsOfTheListeners() throws Exception {
    netty.resume();
    netty.close();
    assertThat(netty.channels()).noneMatch(channel -> channel.isOpen());
    assertThat(listener().channel().isOpen()).isFalse();
  }
}
