package dev.baton.app.jetty;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/** The tests' WebSocket endpoint: each text sent back. Public, for Jetty to call. */
public final class WebSocketEcho implements Session.Listener.AutoDemanding {
  private volatile Session session;

  @Override
  public void onWebSocketOpen(Session session) {
    this.session = session;
  }

  @Override
  public void onWebSocketText(String text) {
    session.sendText(text, Callback.NOOP);
  }
}
