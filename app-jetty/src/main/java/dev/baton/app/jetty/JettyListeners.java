package dev.baton.app.jetty;

import dev.baton.app.Baton;
import dev.baton.app.IdleCloser;
import dev.baton.app.Listener;
import dev.baton.app.Listeners;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.IdleTimeout;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The handed-over listeners as Jetty 12 connectors, paused and resumed together: baton-app's
 * adapter for Jetty.
 *
 * <pre>{@code
 * Server server = new Server();
 * JettyListeners jetty = JettyListeners.addTo(server, Listeners.adoptOr(new InetSocketAddress(8080)));
 * server.setHandler(app);
 * server.start();
 * Baton baton = Baton.connect(jetty);
 * if (!baton.startPaused()) jetty.resume();
 * baton.ready();
 * }</pre>
 *
 * <p>Each listener gets a {@link ServerConnector} that accepts on the listener's own channel and
 * starts <b>paused</b>, except the supervisor's probe listener, which always accepts. A paused
 * connector accepts not one more connection (see {@link ListenerConnector}); the connections it
 * accepted before are served as usual. TCP listeners only: Jetty serves Unix sockets through
 * another connector.
 *
 * <p>WebSockets and HTTP/2 connections outlive any request, so a drain ends them itself, spread
 * over its window: {@link #longLived()}.
 */
public final class JettyListeners implements Baton.Acceptor {

  /** A keep-alive connection idle this long while draining is closed: its client is not sending. */
  static final Duration IDLE_CLOSE = Duration.ofSeconds(1);

  private final List<ListenerConnector> connectors;
  private final HttpConfiguration configuration;

  /**
   * The connectors a pause stops, all but the probe's, whose kept-alive connections it releases.
   */
  private final List<ListenerConnector> released;

  /** Started while paused: closes the released connectors' kept-alive connections once idle. */
  private final IdleCloser releaser;

  /** The configuration's own setting, put back on resume. */
  private boolean persistentConnections;

  /** Ends the WebSockets and HTTP/2 connections of the released connectors in a drain. */
  private final LongLivedDrain longLived;

  private JettyListeners(
      Server server, List<ListenerConnector> connectors, HttpConfiguration configuration) {
    this.connectors = List.copyOf(connectors);
    this.configuration = configuration;
    List<ListenerConnector> released =
        this.connectors.stream().filter(connector -> !connector.listener().probe()).toList();
    this.released = released;
    this.longLived = new LongLivedDrain(server, released);
    this.releaser =
        new IdleCloser("release kept-alive connections of " + released, () -> closeIdle(released));
  }

  /** Adds a connector per listener to the server, with a default {@link HttpConfiguration}. */
  public static JettyListeners addTo(Server server, Listeners listeners) throws IOException {
    return addTo(server, listeners, new HttpConfiguration());
  }

  /**
   * Adds an HTTP/1.1 connector per listener to the server, before it starts.
   *
   * @throws IllegalArgumentException if a listener is not a TCP socket
   */
  public static JettyListeners addTo(
      Server server, Listeners listeners, HttpConfiguration configuration) throws IOException {
    List<ListenerConnector> connectors = new ArrayList<>();
    for (Listener listener : listeners.all()) {
      if (!(listener.address() instanceof InetSocketAddress)) {
        throw new IllegalArgumentException(
            "baton-app-jetty: listener "
                + listener
                + " is not a TCP socket; Jetty's ServerConnector serves TCP only, so give this"
                + " service a TCP [[listen]] address");
      }
      ListenerConnector connector =
          new ListenerConnector(
              server,
              listener,
              /* paused= */ !listener.probe(),
              new HttpConnectionFactory(configuration));
      server.addConnector(connector);
      connectors.add(connector);
    }
    return new JettyListeners(server, connectors, configuration);
  }

  /**
   * The drain of the WebSockets and HTTP/2 connections these connectors accepted (the probe's
   * aside): each ended the way its clients handle, a close frame or GOAWAY, at an even rate over
   * part of the drain's window, so that their clients do not all reconnect at once. {@link #drain}
   * and pausing leave them to it.
   */
  public LongLivedDrain longLived() {
    return longLived;
  }

  /** The connectors, one per listener, in the listeners' order. */
  public List<ServerConnector> connectors() {
    return List.copyOf(connectors);
  }

  /**
   * Stops accepting on every listener but the probe; returns once not one more is accepted. The
   * kept-alive connections go too, as in a drain ({@code Connection: close} on the next answer,
   * closed after a second idle): otherwise a client that pools connections, HAProxy for one, would
   * go on talking to this parked version. The connectors share one HttpConfiguration, so the
   * probe's connections too are not kept alive while paused; they are not closed when idle.
   */
  @Override
  public synchronized void pause() {
    for (ListenerConnector connector : released) {
      connector.pause();
    }
    if (!released.isEmpty() && !releaser.started()) {
      persistentConnections = configuration.isPersistentConnectionsEnabled();
      configuration.setPersistentConnectionsEnabled(false);
      releaser.start();
    }
  }

  /** Accepts on every listener again, and keeps connections alive as before the pause. */
  @Override
  public synchronized void resume() {
    if (releaser.started()) {
      releaser.stop();
      configuration.setPersistentConnectionsEnabled(persistentConnections);
    }
    for (ListenerConnector connector : connectors) {
      connector.resume();
    }
  }

  /**
   * Drains without losing a request: stops accepting on every listener, the probe's too; answers
   * each further request on a kept-alive connection with {@code Connection: close}, so that its
   * client opens the next one elsewhere; and closes connections that stay idle for a second, since
   * closing one a client is sending on would lose that request. WebSockets and HTTP/2 connections
   * are left to {@link #longLived()}. Completes once no connection is left, or at the timeout; then
   * stop the server, which closes what is left.
   */
  public synchronized CompletableFuture<Void> drain(Duration timeout) {
    releaser.stop();
    for (ListenerConnector connector : connectors) {
      connector.pause();
    }
    configuration.setPersistentConnectionsEnabled(false);
    return IdleCloser.drain(
        "drain " + connectors, () -> closeIdle(connectors), this::open, timeout);
  }

  private int open() {
    int open = 0;
    for (ListenerConnector connector : connectors) {
      open += connector.getConnectedEndPoints().size();
    }
    return open;
  }

  private static void closeIdle(List<ListenerConnector> connectors) {
    for (ListenerConnector connector : connectors) {
      for (EndPoint endPoint : connector.getConnectedEndPoints()) {
        if (endPoint instanceof IdleTimeout
            && ((IdleTimeout) endPoint).getIdleFor() >= IDLE_CLOSE.toMillis()
            && !LongLivedDrain.isLongLived(endPoint.getConnection())) {
          endPoint.close();
        }
      }
    }
  }

  @Override
  public String toString() {
    return "JettyListeners " + connectors;
  }
}
