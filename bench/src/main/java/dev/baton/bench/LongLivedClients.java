package dev.baton.bench;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A fleet of long-lived clients on one address, WebSockets or h2c connections, each sending a
 * message (a text frame, or a GET on a new stream) every second, and reconnecting after a random
 * delay when the server ends its connection politely (a close frame with 1012, or GOAWAY). Anything
 * else that ends a connection is abnormal and counted.
 */
interface LongLivedClients extends AutoCloseable {

  /** The kinds bench can run. */
  enum Kind {
    WS,
    H2C
  }

  /**
   * Opens {@code clients} connections to {@code address}, spread over {@code ramp}, and returns
   * once they are all open or have failed to; each then sends a message every {@code every}, and
   * reconnects after a uniform random delay in [0, {@code jitter}) when ended politely.
   */
  static LongLivedClients start(
      Kind kind,
      InetSocketAddress address,
      int clients,
      Duration every,
      Duration jitter,
      Duration ramp)
      throws InterruptedException {
    return switch (kind) {
      case WS -> WebSocketClients.start(address, clients, every, jitter, ramp);
      case H2C -> H2cClients.start(address, clients, every, jitter, ramp);
    };
  }

  /** The counts so far; cheap, safe from any thread, and monotonic but for {@code open}. */
  LongLivedTally tally();

  /**
   * Stops sending, waits up to a second for the answers still owed, and closes every connection
   * politely (a close frame with 1000, or GOAWAY with no error); these ends are not counted as the
   * server's.
   */
  @Override
  void close() throws InterruptedException;
}
