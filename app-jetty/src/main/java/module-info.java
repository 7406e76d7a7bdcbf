/** baton-app's adapter for Jetty 12: the handed-over listeners as connectors that pause safely. */
module dev.baton.app.jetty {
  requires static org.jspecify;
  requires transitive dev.baton.app;
  requires transitive org.eclipse.jetty.server;

  exports dev.baton.app.jetty;
}
