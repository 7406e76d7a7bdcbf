package dev.baton.app.tomcat;

import dev.baton.app.Baton;
import dev.baton.app.IdleCloser;
import dev.baton.app.Listener;
import dev.baton.app.Listeners;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.NioEndpoint;
import org.apache.tomcat.util.net.SocketWrapperBase;

/**
 * The handed-over listeners as Tomcat NIO connectors, paused and resumed together: baton-app's
 * adapter for embedded Tomcat 10.1+ and Spring Boot.
 *
 * <pre>{@code
 * TomcatListeners listeners = TomcatListeners.create(Listeners.adoptOr(new InetSocketAddress(8080)));
 * listeners.connectors().forEach(tomcat.getService()::addConnector);
 * tomcat.start();
 * Baton baton = Baton.connect(listeners);
 * if (!baton.startPaused()) listeners.resume();
 * baton.ready();
 * }</pre>
 *
 * <p>Each listener gets an HTTP/1.1 NIO {@link Connector} that accepts on the listener's own
 * channel and starts <b>paused</b>, except the supervisor's probe listener, which always accepts. A
 * paused connector accepts not one more connection (see {@link ListenerEndpoint}) and goes on
 * serving the connections it has. Not {@code Connector.pause()}: that answers 503 on kept-alive
 * connections. TCP listeners only.
 */
public final class TomcatListeners implements Baton.Acceptor {

  /** A keep-alive connection idle this long while draining is closed: its client is not sending. */
  static final Duration IDLE_CLOSE = Duration.ofSeconds(1);

  private final List<Connector> connectors;
  private final List<ListenerEndpoint> endpoints;

  /**
   * Each connector's own maxKeepAliveRequests, put back on resume; 0 until the first pause, since
   * Tomcat reports 1 for an endpoint not yet bound.
   */
  private final int[] keepAliveRequests;

  /** The endpoints a pause stops, all but the probe's, whose kept-alive connections it releases. */
  private final List<ListenerEndpoint> released;

  /** Started while paused: closes the released endpoints' kept-alive connections once idle. */
  private final IdleCloser releaser;

  private TomcatListeners(List<Connector> connectors, List<ListenerEndpoint> endpoints) {
    this.connectors = List.copyOf(connectors);
    this.endpoints = List.copyOf(endpoints);
    this.keepAliveRequests = new int[connectors.size()];
    List<ListenerEndpoint> released =
        this.endpoints.stream().filter(endpoint -> !endpoint.listener().probe()).toList();
    this.released = released;
    this.releaser =
        new IdleCloser(
            "release kept-alive connections of " + released.size() + " paused connectors",
            () -> closeIdle(released));
  }

  private Http11NioProtocol protocol(int i) {
    return (Http11NioProtocol) connectors.get(i).getProtocolHandler();
  }

  /**
   * Makes a connector per listener; add them to Tomcat's service (or, in Spring Boot, with {@code
   * addAdditionalTomcatConnectors}) before it starts.
   *
   * @throws IllegalArgumentException if a listener is not a TCP socket
   */
  public static TomcatListeners create(Listeners listeners) {
    List<Connector> connectors = new ArrayList<>();
    List<ListenerEndpoint> endpoints = new ArrayList<>();
    for (Listener listener : listeners.all()) {
      if (!(listener.address() instanceof InetSocketAddress)) {
        throw new IllegalArgumentException(
            "baton-app-tomcat: listener "
                + listener
                + " is not a TCP socket; this adapter serves TCP only, so give this service a TCP"
                + " [[listen]] address");
      }
      ListenerEndpoint endpoint = new ListenerEndpoint(listener, /* paused= */ !listener.probe());
      endpoints.add(endpoint);
      connectors.add(new Connector(new Http11NioProtocol(endpoint)));
    }
    return new TomcatListeners(connectors, endpoints);
  }

  /** The connectors, one per listener, in the listeners' order. */
  public List<Connector> connectors() {
    return connectors;
  }

  /**
   * Stops accepting on every listener but the probe; returns once not one more is accepted. The
   * kept-alive connections go too, as in a drain ({@code Connection: close} on the next answer,
   * closed after a second idle): otherwise a client that pools connections, HAProxy for one, would
   * go on talking to this parked version. The probe's connections stay, as the supervisor's.
   */
  @Override
  public synchronized void pause() {
    for (int i = 0; i < endpoints.size(); i++) {
      ListenerEndpoint endpoint = endpoints.get(i);
      if (!endpoint.listener().probe()) {
        endpoint.pauseAccepting();
        if (keepAliveRequests[i] == 0) {
          keepAliveRequests[i] = protocol(i).getMaxKeepAliveRequests();
        }
        // Read for every request: from now on each response says Connection: close.
        protocol(i).setMaxKeepAliveRequests(1);
      }
    }
    if (!released.isEmpty()) {
      releaser.start();
    }
  }

  /** Accepts on every listener again, and keeps connections alive as before the pause. */
  @Override
  public synchronized void resume() {
    releaser.stop();
    for (int i = 0; i < endpoints.size(); i++) {
      if (keepAliveRequests[i] != 0) {
        protocol(i).setMaxKeepAliveRequests(keepAliveRequests[i]);
      }
      endpoints.get(i).resumeAccepting();
    }
  }

  /**
   * Drains without losing a request: stops accepting on every listener, the probe's too; answers
   * each further request on a kept-alive connection with {@code Connection: close}, so that its
   * client opens the next one elsewhere; and closes connections that stay idle for a second, since
   * closing one a client is sending on would lose that request. Completes once no connection is
   * left, or at the timeout; then stop Tomcat, which closes what is left.
   */
  public synchronized CompletableFuture<Void> drain(Duration timeout) {
    releaser.stop();
    for (int i = 0; i < endpoints.size(); i++) {
      endpoints.get(i).pauseAccepting();
      // Read for every request: from now on each response says Connection: close.
      protocol(i).setMaxKeepAliveRequests(1);
    }
    return IdleCloser.drain(
        "drain " + endpoints.size() + " connectors",
        () -> closeIdle(endpoints),
        this::open,
        timeout);
  }

  private int open() {
    int open = 0;
    for (ListenerEndpoint endpoint : endpoints) {
      open += endpoint.getConnections().size();
    }
    return open;
  }

  private static void closeIdle(List<ListenerEndpoint> endpoints) {
    long now = System.currentTimeMillis();
    for (ListenerEndpoint endpoint : endpoints) {
      for (SocketWrapperBase<NioChannel> connection : endpoint.getConnections()) {
        // No processor: between requests, not in the middle of one.
        if (connection instanceof NioEndpoint.NioSocketWrapper
            && connection.getCurrentProcessor() == null) {
          NioEndpoint.NioSocketWrapper nio = (NioEndpoint.NioSocketWrapper) connection;
          if (now - Math.max(nio.getLastRead(), nio.getLastWrite()) >= IDLE_CLOSE.toMillis()) {
            connection.close();
          }
        }
      }
    }
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder("TomcatListeners [");
    for (ListenerEndpoint endpoint : endpoints) {
      text.append(text.charAt(text.length() - 1) == '[' ? "" : ", ")
          .append(endpoint.listener())
          .append(endpoint.pausedAccepting() ? " (paused)" : "");
    }
    return text.append(']').toString();
  }
}
