package dev.baton.app.netty;

import dev.baton.app.Baton;
import dev.baton.app.Listener;
import dev.baton.app.Listeners;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ServerChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The handed-over listeners as Netty NIO server channels, paused and resumed together: baton-app's
 * adapter for Netty 4.2.
 *
 * <pre>{@code
 * ServerBootstrap bootstrap = new ServerBootstrap().group(group).childHandler(initializer);
 * NettyListeners netty = NettyListeners.register(bootstrap, Listeners.adoptOr(new InetSocketAddress(8080)));
 * Baton baton = Baton.connect(netty);
 * if (!baton.startPaused()) netty.resume();
 * baton.ready();
 * }</pre>
 *
 * <p>Each listener becomes a {@code NioServerSocketChannel} made from the listener's own channel
 * and registered, not bound: it is bound already. Each starts <b>paused</b>, except the
 * supervisor's probe listener, which always accepts. A paused channel accepts not one more
 * connection (see {@link ListenerChannel}), and lets go of the kept-alive HTTP connections it
 * accepted (see {@link KeptAliveRelease}): each answer says {@code Connection: close}, and a
 * connection idle for a second is closed. That takes netty-codec-http's {@code HttpServerCodec} in
 * the pipeline the child handler sets up; other connections go on as usual. TCP listeners only.
 *
 * <p>WebSockets and HTTP/2 connections outlive any request, so a drain ends them itself, spread
 * over its window: {@link #longLived()}.
 */
public final class NettyListeners implements Baton.Acceptor, AutoCloseable {

  private final List<ListenerChannel> channels;
  private final KeptAliveRelease release;
  private final LongLivedDrain longLived;

  private NettyListeners(
      List<ListenerChannel> channels, KeptAliveRelease release, LongLivedDrain longLived) {
    this.channels = List.copyOf(channels);
    this.release = release;
    this.longLived = longLived;
  }

  /**
   * Registers a server channel per listener with the bootstrap's group, children handled by its
   * child handler and options; the bootstrap itself is left as it was. Returns once registered.
   *
   * @throws IllegalArgumentException if a listener is not a TCP socket
   */
  public static NettyListeners register(ServerBootstrap bootstrap, Listeners listeners)
      throws InterruptedException {
    List<ListenerChannel> channels = new ArrayList<>();
    KeptAliveRelease release = new KeptAliveRelease();
    LongLivedDrain longLived = new LongLivedDrain();
    for (Listener listener : listeners.all()) {
      if (!(listener.address() instanceof InetSocketAddress)) {
        throw new IllegalArgumentException(
            "baton-app-netty: listener "
                + listener
                + " is not a TCP socket; NioServerSocketChannel serves TCP only, so give this"
                + " service a TCP [[listen]] address");
      }
      boolean paused = !listener.probe();
      ListenerChannel channel = new ListenerChannel(listener, paused);
      ServerBootstrap clone = bootstrap.clone();
      if (!listener.probe()) {
        // The probe's connections are the supervisor's, and are never paused.
        clone.childHandler(following(bootstrap.config().childHandler(), release, longLived));
      }
      // Auto-read off: registering an already bound channel would otherwise start accepting.
      clone
          .channelFactory((ChannelFactory<ServerChannel>) () -> channel)
          .option(ChannelOption.AUTO_READ, !paused)
          .register()
          .sync();
      channels.add(channel);
    }
    return new NettyListeners(channels, release, longLived);
  }

  /**
   * A child handler that sets a connection up with {@code childHandler}, the app's, and then
   * follows it: to let it go while paused if it speaks HTTP, and to end it in a drain once it is a
   * WebSocket or an HTTP/2 connection.
   */
  private static ChannelHandler following(
      ChannelHandler childHandler, KeptAliveRelease release, LongLivedDrain longLived) {
    return new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel channel) {
        // The channel is registered: the app's initializer runs as it is added, right here.
        channel.pipeline().addLast(childHandler);
        release.follow(channel);
        longLived.follow(channel);
      }
    };
  }

  /**
   * The drain of the WebSockets and HTTP/2 connections these listeners accepted (the probe's
   * aside): each ended the way its clients handle, a close frame or GOAWAY, at an even rate over
   * part of the drain's window, so that their clients do not all reconnect at once.
   */
  public LongLivedDrain longLived() {
    return longLived;
  }

  /** The server channels, one per listener, in the listeners' order. */
  public List<Channel> channels() {
    return List.copyOf(channels);
  }

  /**
   * Stops accepting on every listener but the probe; returns once not one more is accepted. The
   * kept-alive HTTP connections go too, as in a drain ({@code Connection: close} on the next
   * answer, closed after a second idle): otherwise a client that pools connections, HAProxy for
   * one, would go on talking to this parked version.
   */
  @Override
  public synchronized void pause() {
    for (ListenerChannel channel : channels) {
      if (!channel.listener().probe()) {
        inEventLoop(channel, channel::pauseInEventLoop);
      }
    }
    release.start();
  }

  /** Accepts on every listener again, and keeps connections alive as before the pause. */
  @Override
  public synchronized void resume() {
    release.stop();
    for (ListenerChannel channel : channels) {
      inEventLoop(channel, channel::resumeInEventLoop);
    }
  }

  /**
   * Stops accepting on every listener, the probe's too, by closing this process's channels: the
   * first step of a drain. The sockets live on in the supervisor, and connections not yet accepted
   * wait in their queues for the next generation. Connections accepted before are left open.
   */
  @Override
  public void close() {
    for (ListenerChannel channel : channels) {
      channel.close().syncUninterruptibly();
    }
  }

  private static void inEventLoop(Channel channel, Runnable action) {
    if (channel.eventLoop().inEventLoop()) {
      action.run();
    } else {
      channel.eventLoop().submit(action).syncUninterruptibly();
    }
  }

  @Override
  public String toString() {
    return "NettyListeners " + channels;
  }
}
