package dev.baton.app.jetty;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;

/**
 * The end of a WebSocket in a drain: a close frame with 1012, Service Restart, after which Jetty
 * closes the connection once the client's close frame comes back; a client that never answers is
 * cut after {@link LongLivedDrain#CLOSE_WAIT}.
 *
 * <p>The sessions are those of Jetty's WebSocket API, which every {@link ServerWebSocketContainer}
 * in the server's tree of beans keeps track of: no help from the app is needed. Only {@link
 * LongLivedDrain} loads this class, and only when jetty-websocket-jetty-server is there.
 */
record WebSocketEnd(Session session) implements LongLived {

  /** The open sessions of every WebSocket container the server holds. */
  static List<LongLived> all(Server server) {
    List<LongLived> all = new ArrayList<>();
    for (ServerWebSocketContainer container :
        server.getContainedBeans(ServerWebSocketContainer.class)) {
      for (Session session : container.getOpenSessions()) {
        all.add(new WebSocketEnd(session));
      }
    }
    return all;
  }

  @Override
  public boolean isOpen() {
    return session.isOpen();
  }

  @Override
  public void begin() {
    session.close(StatusCode.SERVICE_RESTART, "service restart", Callback.NOOP);
    CompletableFuture.delayedExecutor(LongLivedDrain.CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)
        .execute(session::disconnect);
  }

  /** The close frame is all there is to a WebSocket's end; sent once. */
  @Override
  public void finish() {
    begin();
  }
}
