/** baton-app's adapter for Jetty 12: the handed-over listeners as connectors that pause safely. */
module dev.baton.app.jetty {
  requires static org.jspecify;
  requires transitive dev.baton.app;
  requires transitive org.eclipse.jetty.server;

  // Optional: only an app that serves WebSockets through Jetty has them, and only then are they
  // ended with a close frame in a drain (and left alone by the HTTP drain).
  requires static org.eclipse.jetty.websocket.server;
  requires static org.eclipse.jetty.websocket.api;
  requires static org.eclipse.jetty.websocket.core.common;

  // Optional too: only an app that speaks HTTP/2 through Jetty has it, and only then are HTTP/2
  // connections ended with GOAWAY in a drain.
  requires static org.eclipse.jetty.http2.common;

  exports dev.baton.app.jetty;
}
