package dev.baton.app.tomcat;

import dev.baton.app.Baton;
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

  private TomcatListeners(List<Connector> connectors, List<ListenerEndpoint> endpoints) {
    this.connectors = List.copyOf(connectors);
    this.endpoints = List.copyOf(endpoints);
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

  /** Stops accepting on every listener but the probe; returns once not one more is accepted. */
  @Override
  public void pause() {
    for (ListenerEndpoint endpoint : endpoints) {
      if (!endpoint.listener().probe()) {
        endpoint.pauseAccepting();
      }
    }
  }

  /** Accepts on every listener again. */
  @Override
  public void resume() {
    for (ListenerEndpoint endpoint : endpoints) {
      endpoint.resumeAccepting();
    }
  }

  /**
   * Drains without losing a request: stops accepting on every listener, the probe's too; answers
   * each further request on a kept-alive connection with {@code Connection: close}, so that its
   * client opens the next one elsewhere; and closes connections that stay idle for a second, since
   * closing one a client is sending on would lose that request. Completes once no connection is
   * left, or at the timeout; then stop Tomcat, which closes what is left.
   */
  public CompletableFuture<Void> drain(Duration timeout) {
    for (ListenerEndpoint endpoint : endpoints) {
      endpoint.pauseAccepting();
    }
    for (Connector connector : connectors) {
      // Read for every request: from now on each response says Connection: close.
      ((Http11NioProtocol) connector.getProtocolHandler()).setMaxKeepAliveRequests(1);
    }
    CompletableFuture<Void> drained = new CompletableFuture<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    Thread waiter =
        new Thread(
            () -> {
              while (open() > 0 && System.nanoTime() - deadline < 0) {
                closeIdle();
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  break;
                }
              }
              drained.complete(null);
            },
            "drain " + endpoints.size() + " connectors");
    waiter.setDaemon(true);
    waiter.start();
    return drained;
  }

  private int open() {
    int open = 0;
    for (ListenerEndpoint endpoint : endpoints) {
      open += endpoint.getConnections().size();
    }
    return open;
  }

  private void closeIdle() {
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
