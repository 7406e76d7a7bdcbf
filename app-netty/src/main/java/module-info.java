/**
 * baton-app's adapter for Netty's NIO transport: the handed-over listeners as server channels that
 * pause safely.
 */
module dev.baton.app.netty {
  requires static org.jspecify;
  requires transitive dev.baton.app;
  requires transitive io.netty.transport;
  requires io.netty.common;

  exports dev.baton.app.netty;
}
