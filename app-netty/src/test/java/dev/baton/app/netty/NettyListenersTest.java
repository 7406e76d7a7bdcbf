package dev.baton.app.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.app.Baton;
import dev.baton.app.Listeners;
import dev.baton.app.test.AdapterContract;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class NettyListenersTest extends AdapterContract {
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private NettyListeners netty;

  /** Answers the first bytes of a connection with a fixed response and closes it. */
  @ChannelHandler.Sharable
  private static final class Answer extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
      ReferenceCountUtil.release(message);
      var response = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
      context
          .writeAndFlush(Unpooled.copiedBuffer(response, StandardCharsets.US_ASCII))
          .addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  protected Baton.Acceptor start(Listeners listeners) throws Exception {
    var bootstrap = new ServerBootstrap().group(group).childHandler(new Answer());
    netty = NettyListeners.register(bootstrap, listeners);
    return netty;
  }

  @Override
  protected void stop() throws Exception {
    netty.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  @Test
  void closeClosesThisProcesssChannelsOfTheListeners() throws Exception {
    netty.resume();
    netty.close();
    assertThat(netty.channels()).noneMatch(channel -> channel.isOpen());
    assertThat(listener().channel().isOpen()).isFalse();
  }
}
