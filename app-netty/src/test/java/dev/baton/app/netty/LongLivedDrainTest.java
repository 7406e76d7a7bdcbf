package dev.baton.app.netty;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.baton.app.Listeners;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The drain of long-lived connections, over real sockets on loopback: WebSockets with the JDK's
 * client, h2c by prior knowledge with Netty's HTTP/2 client codec.
 */
class LongLivedDrainTest {
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final ExecutorService clientThreads = Executors.newFixedThreadPool(2);
  private final HttpClient http = HttpClient.newBuilder().executor(clientThreads).build();
  private final List<WebSocketClient> webSockets = new ArrayList<>();
  private Listeners listeners;
  private NettyListeners netty;

  @AfterEach
  void closeAll() throws Exception {
    for (WebSocketClient client : webSockets) {
      client.webSocket.abort();
    }
    if (netty != null) {
      netty.close();
    }
    if (listeners != null) {
      listeners.close();
    }
    group.shutdownGracefully(0, 1, SECONDS).sync();
    clientThreads.shutdownNow();
  }

  @Test
  void drainClosesWebSocketsWith1012AtAnEvenRateOverTheFractionOfTheWindow() throws Exception {
    startWebSockets();
    connectWebSockets(20);
    webSockets.get(0).webSocket.sendText("hello", true).get(2, SECONDS);
    assertThat(webSockets.get(0).texts.poll(2, SECONDS)).isEqualTo("hello");

    long start = System.nanoTime();
    netty.longLived().drain(Duration.ofSeconds(2), 0.5).get(3, SECONDS);
    long drained = millisSince(start);

    List<Long> closedAt = new ArrayList<>();
    for (WebSocketClient client : webSockets) {
      assertThat(client.closed.get(1, SECONDS)).as("close status").isEqualTo(1012);
      assertThat(client.reason).isEqualTo("service restart");
      closedAt.add(NANOSECONDS.toMillis(client.closedAt - start));
    }
    closedAt.sort(null);
    // One every 50 ms over the first second: 0, 50, ..., 950 ms.
    assertThat(closedAt.get(19) - closedAt.get(0)).as("first to last close, ms").isGreaterThan(600);
    assertThat(closedAt.stream().filter(at -> at < 250))
        .as("closed in the first 250 ms")
        .hasSizeLessThanOrEqualTo(10);
    assertThat(closedAt.get(19)).as("last close, ms").isLessThan(2000);
    assertThat(drained).as("drain done, ms").isLessThan(2000);
    assertThat(netty.longLived().open()).isZero();
  }

  @Test
  void endNowClosesAllTheRestAtOnceWith1012() throws Exception {
    startWebSockets();
    connectWebSockets(10);

    // One every 2 s: only the first goes before endNow.
    CompletableFuture<Void> drain = netty.longLived().drain(Duration.ofSeconds(20), 1);
    Thread.sleep(300);
    long now = System.nanoTime();
    netty.longLived().endNow();
    drain.get(3, SECONDS);

    int afterNow = 0;
    for (WebSocketClient client : webSockets) {
      assertThat(client.closed.get(1, SECONDS)).as("close status").isEqualTo(1012);
      if (client.closedAt - now >= 0) {
        afterNow++;
        assertThat(NANOSECONDS.toMillis(client.closedAt - now))
            .as("closed after endNow, ms")
            .isLessThan(1000);
      }
    }
    assertThat(afterNow).isEqualTo(9);
    assertThat(millisSince(now)).as("drain done after endNow, ms").isLessThan(2000);
    assertThat(netty.longLived().open()).isZero();
  }

  @Test
  void anHttp2ConnectionGetsGoAwayTwiceTakesAStreamBetweenAndIsClosed() throws Exception {
    startHttp2();
    Http2Client client = new Http2Client();
    Channel channel =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel channel) {
                    channel.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(), client);
                  }
                })
            .connect(address())
            .sync()
            .channel();
    assertThat(client.get(channel).get(2, SECONDS)).startsWith("200 ok on ");
    await().atMost(2, SECONDS).until(() -> netty.longLived().open() == 1);

    long start = System.nanoTime();
    CompletableFuture<Void> drain = netty.longLived().drain(Duration.ofSeconds(10), 0.5);
    assertThat(channel.closeFuture().await(3, SECONDS)).as("closed by the server").isTrue();
    drain.get(1, SECONDS);

    // The client starts a stream as soon as it reads the first GOAWAY: the server still takes it,
    // and names it in the final one.
    assertThat(client.events).hasSize(3);
    assertThat(client.events.get(0)).isEqualTo("GOAWAY " + Integer.MAX_VALUE);
    assertThat(client.events.get(1)).startsWith("200 ok on ");
    String between = client.events.get(1).substring("200 ok on ".length());
    assertThat(client.events.get(2)).isEqualTo("GOAWAY " + between);
    assertThat(millisSince(start))
        .as("closed after the grace, ms")
        .isBetween(LongLivedDrain.GOAWAY_GRACE.toMillis(), 3000L);
    assertThat(netty.longLived().open()).isZero();
  }

  private void start(ChannelHandler childHandler) throws Exception {
    listeners = Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    netty =
        NettyListeners.register(
            new ServerBootstrap().group(group).childHandler(childHandler), listeners);
    netty.resume();
  }

  private InetSocketAddress address() {
    return (InetSocketAddress) listeners.all().get(0).address();
  }

  /** A WebSocket echo at /ws, as Netty's examples make one. */
  private void startWebSockets() throws Exception {
    start(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel channel) {
            channel
                .pipeline()
                .addLast(
                    new HttpServerCodec(),
                    new HttpObjectAggregator(1 << 16),
                    new WebSocketServerProtocolHandler("/ws"),
                    new Echo());
          }
        });
  }

  private static final class Echo extends SimpleChannelInboundHandler<TextWebSocketFrame> {
    @Override
    protected void channelRead0(ChannelHandlerContext context, TextWebSocketFrame frame) {
      ChannelFuture unused = context.writeAndFlush(new TextWebSocketFrame(frame.text()));
    }
  }

  /** h2c by prior knowledge, each stream answered 200 and "ok". */
  private void startHttp2() throws Exception {
    start(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel channel) {
            channel
                .pipeline()
                .addLast(
                    Http2FrameCodecBuilder.forServer().build(),
                    new Http2MultiplexHandler(new Http2Answer()));
          }
        });
  }

  @ChannelHandler.Sharable
  private static final class Http2Answer extends SimpleChannelInboundHandler<Http2HeadersFrame> {
    @Override
    protected void channelRead0(ChannelHandlerContext context, Http2HeadersFrame request) {
      if (request.isEndStream()) {
        ChannelFuture unusedHeaders =
            context.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
        ChannelFuture unused =
            context.writeAndFlush(
                new DefaultHttp2DataFrame(
                    Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII), true));
      }
    }
  }

  private void connectWebSockets(int count) throws Exception {
    URI uri = URI.create("ws://" + address().getHostString() + ":" + address().getPort() + "/ws");
    List<CompletableFuture<WebSocket>> connecting = new ArrayList<>();
    List<WebSocketClient> clients = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      WebSocketClient client = new WebSocketClient();
      clients.add(client);
      connecting.add(http.newWebSocketBuilder().buildAsync(uri, client));
    }
    for (int i = 0; i < count; i++) {
      clients.get(i).webSocket = connecting.get(i).get(5, SECONDS);
      webSockets.add(clients.get(i));
    }
    await().atMost(2, SECONDS).until(() -> netty.longLived().open() == count);
  }

  /** The JDK's WebSocket client: when and how it was closed, or how it failed. */
  private static final class WebSocketClient implements WebSocket.Listener {
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    volatile long closedAt;
    volatile String reason = "";
    volatile WebSocket webSocket;

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      texts.add(data.toString());
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closedAt = System.nanoTime();
      this.reason = reason;
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed.completeExceptionally(error);
    }
  }

  /**
   * Netty's HTTP/2 client codec on one connection: GETs /, and at the first GOAWAY GETs / once
   * more. Records what it reads after the first answer, in order.
   */
  private static final class Http2Client extends Http2ChannelDuplexHandler {
    final List<String> events = new CopyOnWriteArrayList<>();
    private final Map<Integer, CompletableFuture<String>> answers = new ConcurrentHashMap<>();
    private final Map<Integer, StringBuilder> bodies = new ConcurrentHashMap<>();

    CompletableFuture<String> get(Channel channel) {
      CompletableFuture<String> answer = new CompletableFuture<>();
      channel.eventLoop().execute(() -> get(channel.pipeline().context(this), answer));
      return answer;
    }

    /** On the event loop. */
    private void get(ChannelHandlerContext context, CompletableFuture<String> answer) {
      Http2FrameStream stream = newStream();
      var headers =
          new DefaultHttp2Headers().method("GET").path("/").scheme("http").authority("localhost");
      ChannelFuture unused =
          context.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true).stream(stream));
      // The stream has its id once its headers are written, which happens right there.
      answers.put(stream.id(), answer);
      bodies.put(stream.id(), new StringBuilder());
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
      try {
        if (message instanceof Http2GoAwayFrame goAway) {
          events.add("GOAWAY " + goAway.lastStreamId());
          if (events.size() == 1) {
            get(context, new CompletableFuture<>());
          }
        } else if (message instanceof Http2HeadersFrame headers) {
          bodies.get(headers.stream().id()).append(headers.headers().status()).append(' ');
        } else if (message instanceof Http2DataFrame data) {
          int id = data.stream().id();
          bodies.get(id).append(data.content().toString(StandardCharsets.US_ASCII));
          if (data.isEndStream()) {
            String answer = bodies.get(id) + " on " + id;
            if (!events.isEmpty()) {
              events.add(answer);
            }
            answers.get(id).complete(answer);
          }
        }
      } finally {
        ReferenceCountUtil.release(message);
      }
    }
  }

  private static long millisSince(long start) {
    return MILLISECONDS.convert(System.nanoTime() - start, NANOSECONDS);
  }
}
