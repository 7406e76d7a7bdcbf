/**
 * baton-app's adapter for Netty's NIO transport: the handed-over listeners as server channels that
 * pause safely.
 */
module dev.baton.app.netty {
  requires static org.jspecify;
  requires transitive dev.baton.app;
  requires transitive io.netty.transport;
  requires io.netty.common;
  requires io.netty.buffer;

  // Optional: only an app that speaks HTTP through Netty has it, and only then are kept-alive
  // connections let go of on pause, and WebSockets ended with a close frame in a drain.
  requires static io.netty.codec.http;
  requires static io.netty.codec;

  // Optional too: only an app that speaks HTTP/2 through Netty has it, and only then are HTTP/2
  // connections ended with GOAWAY in a drain.
  requires static io.netty.codec.http2;

  exports dev.baton.app.netty;
}
