package dev.baton.app.test;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A raw HTTP/1.1 client: a connection per request, and the server's queue seen from outside. */
public final class Client {
  private Client() {}

  /** Connects and sends {@code GET path} with {@code Connection: close}; the answer is not read. */
  public static SocketChannel send(SocketAddress address, String path) throws IOException {
    SocketChannel channel = SocketChannel.open(address);
    channel.write(
        StandardCharsets.US_ASCII.encode(
            "GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"));
    return channel;
  }

  /** The whole answer on this connection, or empty if none came within the time. */
  public static Optional<String> answer(SocketChannel channel, Duration within) throws Exception {
    var reader = Executors.newSingleThreadExecutor();
    try {
      var future =
          reader.submit(
              () -> {
                var out = new StringBuilder();
                var buffer = ByteBuffer.allocate(4096);
                while (channel.read(buffer) >= 0) {
                  buffer.flip();
                  out.append(StandardCharsets.US_ASCII.decode(buffer));
                  buffer.clear();
                }
                return out.toString();
              });
      try {
        return Optional.of(future.get(within.toMillis(), TimeUnit.MILLISECONDS));
      } catch (TimeoutException e) {
        return Optional.empty();
      }
    } finally {
      channel.close();
      reader.shutdownNow();
    }
  }

  public static String get(SocketAddress address, String path) throws Exception {
    return answer(send(address, path), Duration.ofSeconds(5))
        .orElseThrow(() -> new SocketTimeoutException("no answer from " + address));
  }

  /**
   * Accepts on the server's own channel, as a second generation would: a connection that the paused
   * server left in the shared queue comes out here. The adapters all put the listener in
   * non-blocking mode, so this polls.
   */
  public static Optional<SocketChannel> acceptWithin(ServerSocketChannel listener, Duration within)
      throws Exception {
    if (listener.isBlocking()) {
      throw new IllegalStateException("the server left " + listener + " in blocking mode");
    }
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() - deadline < 0) {
      SocketChannel channel = listener.accept();
      if (channel != null) {
        return Optional.of(channel);
      }
      Thread.sleep(5);
    }
    return Optional.empty();
  }
}
