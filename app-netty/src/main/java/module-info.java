/**
 * baton-app's adapter for Netty's NIO transport: the handed-over listeners as server channels that
 * pause safely.
 */
module dev.baton.app.netty {
  requires static org.jspecify;
  requires transitive dev.baton.app;
  requires transitive io.netty.transport;
  requires io.netty.common;

  // Optional: only an app that speaks HTTP through Netty has it, and only then are kept-alive
  // connections let go of on pause.
  requires static io.netty.codec.http;
  requires static io.netty.codec;

  exports dev.baton.app.netty;
}
