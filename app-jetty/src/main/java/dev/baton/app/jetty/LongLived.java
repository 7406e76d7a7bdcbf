package dev.baton.app.jetty;

/**
 * One WebSocket or HTTP/2 connection, as {@link LongLivedDrain} ends it. Implemented by records
 * over Jetty's own objects, so that two found in different looks are equal.
 */
interface LongLived {

  /** Whether the client may still send on it: what a drain waits for. */
  boolean isOpen();

  /** The polite end: a WebSocket's close frame, an HTTP/2 connection's first GOAWAY. */
  void begin();

  /** The end at once: the close frame if not sent yet, or the final GOAWAY without the grace. */
  void finish();
}
