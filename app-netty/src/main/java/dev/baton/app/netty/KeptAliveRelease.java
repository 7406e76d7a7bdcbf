package dev.baton.app.netty;

import dev.baton.app.IdleCloser;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets go of the kept-alive HTTP connections of paused listeners, as Jetty's and Tomcat's adapters
 * do: while paused, each answer says {@code Connection: close} and the connection closes once it is
 * written, and a connection left idle for a second is closed. Otherwise a client that pools
 * connections, HAProxy for one, would go on talking to a parked generation.
 *
 * <p>The adapter does not own the connections' pipelines, the app's child handler does; so each
 * connection is followed from its start by an {@link HttpConnection} placed just after Netty's HTTP
 * codec, if the child handler put one there. Connections that do not speak HTTP through Netty's
 * codec are left alone: only HTTP says where a request ends, so when closing loses nothing.
 */
final class KeptAliveRelease {

  /** A kept-alive connection idle this long while paused is closed: its client is not sending. */
  static final Duration IDLE_CLOSE = Duration.ofSeconds(1);

  /**
   * Whether netty-codec-http is there: it is optional, and without it no connection speaks HTTP
   * through Netty, and {@link HttpConnection}, which links against it, is never loaded.
   */
  private static final boolean HTTP = present("io.netty.handler.codec.http.HttpServerCodec");

  private final Set<HttpConnection> connections = ConcurrentHashMap.newKeySet();
  private final IdleCloser closer =
      new IdleCloser("release kept-alive connections of paused Netty listeners", this::closeIdle);
  private volatile boolean releasing;

  /**
   * Follows a connection the app's child handler has just set up, if it speaks HTTP through Netty's
   * codec.
   */
  void follow(Channel channel) {
    if (HTTP) {
      HttpConnection.follow(channel, this);
    }
  }

  /** Whether answers say {@code Connection: close} now. */
  boolean releasing() {
    return releasing;
  }

  void start() {
    releasing = true;
    closer.start();
  }

  void stop() {
    closer.stop();
    releasing = false;
  }

  void add(HttpConnection connection) {
    connections.add(connection);
  }

  void remove(HttpConnection connection) {
    connections.remove(connection);
  }

  private void closeIdle() {
    long now = System.nanoTime();
    for (HttpConnection connection : connections) {
      connection.closeIfIdle(now, IDLE_CLOSE.toNanos());
    }
  }

  /** Whether a class is there, without loading it: for Netty's optional modules. */
  static boolean present(String className) {
    try {
      Class.forName(className, false, KeptAliveRelease.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
