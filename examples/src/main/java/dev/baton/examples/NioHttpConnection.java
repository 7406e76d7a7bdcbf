package dev.baton.examples;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP/1.1 connection of {@link NioExample} and {@link InheritedChannelExample}, served with
 * blocking reads on its own thread: requests without bodies, kept alive unless the client or a
 * drain says otherwise.
 */
final class NioHttpConnection implements Runnable {
  static final long IDLE_CLOSE_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final int MAX_HEAD = 16 * 1024;

  /** Set once, at the drain: responses say Connection: close from then on. */
  static volatile boolean draining;

  private final SocketChannel channel;
  private final Set<NioHttpConnection> open;
  private final ByteBuffer in = ByteBuffer.allocate(MAX_HEAD);

  /** When the last response was written, or the connection accepted; 0 while a request is read. */
  private volatile long idleSince = System.nanoTime();

  NioHttpConnection(SocketChannel channel, Set<NioHttpConnection> open) {
    this.channel = channel;
    this.open = open;
  }

  @Override
  public void run() {
    try (channel) {
      boolean keepAlive = true;
      while (keepAlive) {
        String head = readHead();
        if (head == null) {
          return; // the client closed, between requests
        }
        String[] requestLine = head.substring(0, head.indexOf("\r\n")).split(" ");
        String lower = head.toLowerCase(Locale.ROOT);
        keepAlive =
            !draining
                && requestLine.length == 3
                && requestLine[2].equals("HTTP/1.1")
                && !lower.contains("\r\nconnection: close");
        Reply reply =
            requestLine.length == 3
                ? Reply.to(requestLine[0], requestLine[1].split("\\?", 2)[0])
                : Reply.to("BAD", "/");
        write(reply, keepAlive);
        idleSince = System.nanoTime();
      }
    } catch (IOException e) {
      // Reset by the client, or closed by the drain while idle: nothing was lost either way.
    } finally {
      open.remove(this);
    }
  }

  /** The next request head, or null at a clean end of stream. */
  private @Nullable String readHead() throws IOException {
    while (true) {
      String buffered = StandardCharsets.US_ASCII.decode(in.duplicate().flip()).toString();
      int end = buffered.indexOf("\r\n\r\n");
      if (end >= 0) {
        // Requests here have no body: keep whatever was pipelined after this head.
        byte[] rest = new byte[in.position() - (end + 4)];
        in.flip().position(end + 4);
        in.get(rest);
        in.clear().put(rest);
        return buffered.substring(0, end + 2);
      }
      if (!in.hasRemaining()) {
        throw new IOException("request head longer than " + MAX_HEAD + " bytes");
      }
      if (channel.read(in) < 0) {
        if (in.position() > 0) {
          throw new IOException("the client closed in the middle of a request");
        }
        return null;
      }
      idleSince = 0;
    }
  }

  private void write(Reply reply, boolean keepAlive) throws IOException {
    String response =
        "HTTP/1.1 "
            + reply.status
            + (reply.status == 200 ? " OK" : " Error")
            + "\r\nContent-Type: text/plain\r\nContent-Length: "
            + reply.body.length()
            + (keepAlive ? "" : "\r\nConnection: close")
            + "\r\n\r\n"
            + reply.body;
    ByteBuffer out = StandardCharsets.US_ASCII.encode(response);
    while (out.hasRemaining()) {
      channel.write(out);
    }
  }

  /**
   * The rest of a drain, once nothing more is accepted: answers each further request with {@code
   * Connection: close}, and closes the connections that stay idle for a second, since closing one a
   * client is sending on would lose that request. Returns once none is left, or after {@link
   * Reply#DRAIN}.
   */
  static void drain(Set<NioHttpConnection> open) {
    draining = true;
    long deadline = System.nanoTime() + Reply.DRAIN.toNanos();
    while (!open.isEmpty() && System.nanoTime() - deadline < 0) {
      long now = System.nanoTime();
      for (NioHttpConnection connection : open) {
        connection.closeIfIdle(now, IDLE_CLOSE_NANOS);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Closes the connection if it has waited for a request that long; its thread then ends. */
  void closeIfIdle(long now, long idleNanos) {
    long since = idleSince;
    if (since != 0 && now - since >= idleNanos) {
      try {
        channel.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
