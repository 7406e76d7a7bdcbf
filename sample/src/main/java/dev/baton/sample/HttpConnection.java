package dev.baton.sample;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * One accepted connection, served on its own virtual thread: requests are read and answered in
 * order, for as long as the client keeps the connection and the server is not draining.
 *
 * <p>During a drain the next response carries {@code Connection: close}. A connection waiting for
 * its next request is closed by {@link #closeIfIdleFor} only once it has been idle a while, because
 * a client may be sending on it right then, and that request would be lost to a reset.
 */
final class HttpConnection implements Runnable {

  /** How long to read and discard after a last response, so our close does not reset it away. */
  private static final long LINGER_MILLIS = 2_000;

  private static final int MAX_LINE = 4096;

  private final SampleServer server;
  private final SocketChannel channel;

  /** Bytes received and not consumed yet: [position, limit), in read mode between calls. */
  private final ByteBuffer in = ByteBuffer.allocate(RequestHead.MAX_BYTES).flip();

  /** Responses not yet written; several when requests were pipelined. */
  private ByteBuffer out = ByteBuffer.allocate(1024);

  // Guarded by this: whether the thread waits for a next request, since when, and whether
  // closeIfIdleFor closed the channel.
  private boolean idle;
  private long idleSinceNanos;
  private boolean closedWhileIdle;

  HttpConnection(SampleServer server, SocketChannel channel) {
    this.server = server;
    this.channel = channel;
  }

  @Override
  public void run() {
    try {
      serve();
    } catch (IOException | RuntimeException e) {
      // The client went away or reset, or closeIfIdleFor closed an idle connection: nothing to
      // answer either way. Anything else would be a bug worth seeing.
      if (!(e instanceof IOException) && !closedWhileIdle()) {
        e.printStackTrace();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try {
        channel.close();
      } catch (IOException e) {
        // closing is all that was left to do
      }
      server.closed(this);
    }
  }

  private void serve() throws IOException, InterruptedException {
    while (true) {
      RequestHead head;
      long bodyBytes;
      try {
        head = readHead();
        if (head == null) {
          return; // the client closed between requests
        }
        bodyBytes = readBody(head);
      } catch (RequestHead.Malformed e) {
        put(new Response(e.status, e.getMessage() + "\n").bytes("close", /* withBody= */ true));
        lingerAndClose();
        return;
      }
      Response response = server.answer(head, bodyBytes);
      // Decided after the answer, which may take a while: a drain that began meanwhile closes.
      boolean keepOpen = head.keepsConnection() && !server.lettingConnectionsGo();
      String connection = keepOpen ? (head.http10() ? "keep-alive" : "") : "close";
      put(response.bytes(connection, /* withBody= */ !head.method().equals("HEAD")));
      if (!keepOpen) {
        lingerAndClose();
        return;
      }
      // Responses to pipelined requests go out together when the next read flushes them, unless
      // each takes a while: then each goes out as soon as it is ready.
      if (server.answersTakeTime() || out.position() > 16 * 1024) {
        flush();
      }
    }
  }

  /** The next request head, or null if the client closed the connection cleanly before one. */
  private @Nullable RequestHead readHead() throws IOException, RequestHead.Malformed {
    while (true) {
      // Clients may send a blank line between requests (RFC 9112, 2.2).
      while (in.hasRemaining()
          && (in.get(in.position()) == '\r' || in.get(in.position()) == '\n')) {
        in.get();
      }
      int end = RequestHead.end(in.array(), in.position(), in.limit());
      if (end >= 0) {
        RequestHead head = RequestHead.parse(in.array(), in.position(), end);
        in.position(end);
        return head;
      }
      if (in.remaining() == in.capacity()) {
        throw new RequestHead.Malformed(
            431, "request head larger than " + in.capacity() + " bytes");
      }
      if (fill(/* betweenRequests= */ !in.hasRemaining()) < 0) {
        return null;
      }
    }
  }

  /** Reads and discards the body, and says how long it was. */
  private long readBody(RequestHead head) throws IOException, RequestHead.Malformed {
    if (!head.hasBody()) {
      return 0;
    }
    if (head.expectContinue() && !head.http10()) {
      put("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      flush();
    }
    if (!head.chunked()) {
      discard(head.contentLength());
      return head.contentLength();
    }
    long total = 0;
    while (true) {
      String sizeLine = readLine();
      int extension = sizeLine.indexOf(';');
      String hex = (extension < 0 ? sizeLine : sizeLine.substring(0, extension)).strip();
      long size;
      try {
        size = Long.parseLong(hex, 16);
      } catch (NumberFormatException e) {
        throw new RequestHead.Malformed(400, "malformed chunk size");
      }
      if (size < 0 || hex.length() > 15) {
        throw new RequestHead.Malformed(400, "malformed chunk size");
      }
      if (size == 0) {
        while (!readLine().isEmpty()) {
          // trailer fields: not acted on
        }
        return total;
      }
      discard(size);
      total += size;
      if (!readLine().isEmpty()) {
        throw new RequestHead.Malformed(400, "chunk longer than its size");
      }
    }
  }

  private void discard(long bytes) throws IOException {
    long left = bytes;
    while (true) {
      int now = (int) Math.min(left, in.remaining());
      in.position(in.position() + now);
      left -= now;
      if (left == 0) {
        return;
      }
      if (fill(/* betweenRequests= */ false) < 0) {
        throw new EOFException("client closed in the middle of a body");
      }
    }
  }

  private String readLine() throws IOException, RequestHead.Malformed {
    while (true) {
      for (int i = in.position(); i < in.limit(); i++) {
        if (in.get(i) == '\n') {
          int length = i - in.position();
          String line = new String(in.array(), in.position(), length, StandardCharsets.ISO_8859_1);
          in.position(i + 1);
          return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
        }
      }
      if (in.remaining() >= MAX_LINE) {
        throw new RequestHead.Malformed(400, "line longer than " + MAX_LINE + " bytes");
      }
      if (fill(/* betweenRequests= */ false) < 0) {
        throw new EOFException("client closed in the middle of a body");
      }
    }
  }

  /**
   * Reads more bytes, after sending what is pending (the client may wait for it). Between requests,
   * with nothing buffered, the connection counts as idle while it waits.
   *
   * @return the bytes read, -1 at end of stream
   */
  private int fill(boolean betweenRequests) throws IOException {
    flush();
    if (betweenRequests) {
      markIdle();
    }
    in.compact();
    int read;
    try {
      read = channel.read(in);
    } finally {
      in.flip();
    }
    if (betweenRequests) {
      markBusy();
    }
    return read;
  }

  private void put(byte[] bytes) {
    if (out.remaining() < bytes.length) {
      ByteBuffer larger =
          ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + bytes.length));
      out.flip();
      larger.put(out);
      out = larger;
    }
    out.put(bytes);
  }

  private void flush() throws IOException {
    out.flip();
    while (out.hasRemaining()) {
      channel.write(out);
    }
    out.clear();
  }

  /**
   * Sends what is pending, then half-closes and reads until the client closes too, for at most
   * {@link #LINGER_MILLIS}. Closing with unread bytes (say a pipelined request after our last
   * response) would send a reset, and a reset can destroy that response before the client reads it.
   */
  private void lingerAndClose() throws IOException {
    flush();
    channel.shutdownOutput();
    Socket socket = channel.socket();
    InputStream input = socket.getInputStream();
    byte[] discarded = new byte[4096];
    long deadline = System.nanoTime() + LINGER_MILLIS * 1_000_000;
    try {
      long left;
      while ((left = (deadline - System.nanoTime()) / 1_000_000) > 0) {
        socket.setSoTimeout((int) left);
        if (input.read(discarded) < 0) {
          break;
        }
      }
    } catch (SocketTimeoutException e) {
      // the client kept the connection open; close it anyway
    }
    channel.close();
  }

  private synchronized void markIdle() {
    idle = true;
    idleSinceNanos = System.nanoTime();
  }

  private synchronized void markBusy() {
    idle = false;
  }

  private synchronized boolean closedWhileIdle() {
    return closedWhileIdle;
  }

  /**
   * Closes the connection if it has waited for a next request for at least {@code idleNanos}; the
   * serving thread then ends. Called by the drain.
   */
  synchronized void closeIfIdleFor(long idleNanos, long nowNanos) {
    if (idle && !closedWhileIdle && nowNanos - idleSinceNanos >= idleNanos) {
      closedWhileIdle = true;
      try {
        channel.close();
      } catch (IOException e) {
        // the serving thread sees the channel closed either way
      }
    }
  }
}
