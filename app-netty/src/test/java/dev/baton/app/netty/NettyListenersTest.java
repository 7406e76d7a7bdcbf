package dev.baton.app.netty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.app.Listener;
import dev.baton.app.Listeners;
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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NettyListenersTest {
  private Listeners listeners;
  private Listener listener;
  private EventLoopGroup group;
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

  @BeforeEach
  void start() throws Exception {
    listeners = Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    listener = listeners.all().get(0);
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    var bootstrap = new ServerBootstrap().group(group).childHandler(new Answer());
    netty = NettyListeners.register(bootstrap, listeners);
  }

  @AfterEach
  void stop() throws Exception {
    netty.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    listeners.close();
  }

  private InetSocketAddress address() {
    return (InetSocketAddress) listener.address();
  }

  @Test
  void startsPausedAndLeavesConnectionsInTheSharedQueue() throws Exception {
    var waiting = Client.send(address(), "/");
    assertThat(Client.answer(waiting, Duration.ofMillis(300))).isEmpty();
    assertThat(Client.acceptWithin(listener.channel(), Duration.ofSeconds(2))).isPresent();
  }

  @Test
  void servesOnTheListenerOnceResumed() throws Exception {
    netty.resume();
    assertThat(Client.get(address(), "/")).startsWith("HTTP/1.1 200").endsWith("ok\n");
  }

  @Test
  void afterPauseReturnsNotOneMoreConnectionIsAcceptedEvenRightAfterServing() throws Exception {
    for (int i = 0; i < 20; i++) {
      netty.resume();
      assertThat(Client.get(address(), "/")).as("round %d", i).startsWith("HTTP/1.1 200");
      netty.pause();
      try (var queued = Client.send(address(), "/")) {
        var accepted = Client.acceptWithin(listener.channel(), Duration.ofSeconds(2));
        assertThat(accepted)
            .as("round %d: the connection stayed in the queue for another", i)
            .isPresent();
        accepted.get().close();
      }
    }
  }

  @Test
  void closeClosesThisProcesssChannelsOfTheListeners() throws Exception {
    netty.resume();
    netty.close();
    assertThat(netty.channels()).noneMatch(channel -> channel.isOpen());
    assertThat(listener.channel().isOpen()).isFalse();
  }
}
