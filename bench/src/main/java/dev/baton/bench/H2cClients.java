package dev.baton.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * HTTP/2 connections by prior knowledge, each opening a stream with {@code GET /} every {@code
 * every}. A drain's GOAWAYs end a connection politely: after the first, no new stream; the streams
 * above the final one's last stream id were refused, and are sent again on the next connection;
 * once the streams it took are answered, or the server closes, the client reconnects after the
 * jitter. A GOAWAY with an error, or an end without GOAWAY, is abnormal and loses what was owed.
 */
final class H2cClients extends LongLivedFleet {
  private final String authority;

  private H2cClients(
      InetSocketAddress address, int clients, Duration every, Duration jitter, Duration ramp) {
    super(address, clients, every, jitter, ramp);
    this.authority = address.getHostString() + ":" + address.getPort();
  }

  static LongLivedClients start(
      InetSocketAddress address, int clients, Duration every, Duration jitter, Duration ramp)
      throws InterruptedException {
    return new H2cClients(address, clients, every, jitter, ramp).startAll();
  }

  /** The handshake: the preface and SETTINGS out, the server's SETTINGS in and acknowledged. */
  @Override
  Connection connect(Socket socket) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(Http2Frames.preface());
    var in = new BufferedInputStream(socket.getInputStream(), 1024);
    while (true) {
      Http2Frames.Frame frame = Http2Frames.read(in);
      if (frame == null) {
        throw new EOFException("end of stream before the server's SETTINGS");
      }
      if (frame.type() == Http2Frames.SETTINGS && !frame.has(Http2Frames.ACK)) {
        out.write(Http2Frames.settingsAck());
        return new H2Connection(socket, in, out);
      }
      if (frame.type() == Http2Frames.GOAWAY) {
        throw new IOException("GOAWAY before SETTINGS");
      }
    }
  }

  /** A stream sent and not yet answered. */
  private static final class Pending {
    final String message;
    int status = -1;

    Pending(String message) {
      this.message = message;
    }
  }

  private final class H2Connection extends Connection {
    private final InputStream in;
    private final OutputStream out;

    /** By stream id. */
    private final Map<Integer, Pending> pending = new HashMap<>();

    /** Refused by the server: sent again on the next connection. */
    private final List<String> refused = new ArrayList<>();

    private int nextStream = 1;

    /** False once GOAWAY was read or sent, or a write failed: no new stream from then on. */
    private boolean writable = true;

    /** The lowest last stream id of the GOAWAYs read; below the largest once the final one came. */
    private int lastStreamId = Http2Frames.MAX_STREAM_ID;

    private boolean goAway;

    H2Connection(Socket socket, InputStream in, OutputStream out) {
      super(socket);
      this.in = in;
      this.out = out;
    }

    @Override
    synchronized void resend(List<String> messages) {
      for (String message : messages) {
        if (open(message)) {
          resent.increment();
        }
      }
    }

    @Override
    synchronized void send(String message) {
      if (!stopping() && open(message)) {
        sent.increment();
      }
    }

    /** Opens a stream for {@code message}, which is owed from then on; false if none could be. */
    private boolean open(String message) {
      if (!writable || nextStream < 0) {
        return false;
      }
      int stream = nextStream;
      nextStream += 2;
      pending.put(stream, new Pending(message));
      try {
        out.write(Http2Frames.get(stream, authority));
      } catch (IOException e) {
        writable = false; // the reader sees the end too, and tells how it ended
      }
      return true;
    }

    @Override
    synchronized int owed() {
      return pending.size();
    }

    @Override
    synchronized void goodbye() {
      if (writable) {
        writable = false;
        try {
          out.write(Http2Frames.goAway(0, Http2Frames.NO_ERROR));
          socket.shutdownOutput(); // the server closes once it reads the end
        } catch (IOException e) {
          LongLivedFleet.closeQuietly(socket);
        }
      }
    }

    @Override
    End read() {
      End end = readFrames();
      synchronized (this) {
        writable = false;
        if (end == End.POLITE) {
          refuseAbove(lastStreamId);
          carry = List.copyOf(refused);
          lost = pending.size(); // taken by the server, and never answered
        } else {
          lost = pending.size() + refused.size();
        }
        pending.clear();
      }
      return end;
    }

    private End readFrames() {
      try {
        while (true) {
          int first;
          try {
            first = in.read();
          } catch (SocketTimeoutException e) {
            if (owed() > 0) {
              return End.ABNORMAL;
            }
            continue;
          }
          if (first < 0) {
            synchronized (this) {
              return goAway ? End.POLITE : End.ABNORMAL;
            }
          }
          Http2Frames.Frame frame = Http2Frames.readAfter(first, in);
          End end = handle(frame);
          if (end != null) {
            return end;
          }
        }
      } catch (IOException e) {
        synchronized (this) {
          // A reset after the final GOAWAY, its streams all answered, loses nothing.
          return goAway && pending.isEmpty() ? End.POLITE : End.ABNORMAL;
        }
      }
    }

    /** Acts on one frame; an end if it ended the connection. */
    private synchronized @Nullable End handle(Http2Frames.Frame frame) throws IOException {
      switch (frame.type()) {
        case Http2Frames.SETTINGS -> {
          if (!frame.has(Http2Frames.ACK)) {
            out.write(Http2Frames.settingsAck());
          }
        }
        case Http2Frames.PING -> {
          if (!frame.has(Http2Frames.ACK)) {
            out.write(Http2Frames.pingAck(frame.payload()));
          }
        }
        case Http2Frames.HEADERS -> {
          byte[] block = headerBlock(frame);
          Pending stream = pending.get(frame.stream());
          if (stream != null && stream.status < 0) {
            stream.status = Http2Frames.status(block);
          }
          if (frame.has(Http2Frames.END_STREAM)) {
            return answered(frame.stream());
          }
        }
        case Http2Frames.DATA -> {
          if (frame.payload().length > 0) {
            // The connection's window only: a stream's single small response fits its own.
            out.write(Http2Frames.windowUpdate(0, frame.payload().length));
          }
          if (frame.has(Http2Frames.END_STREAM)) {
            return answered(frame.stream());
          }
        }
        case Http2Frames.RST_STREAM -> {
          Pending stream = pending.remove(frame.stream());
          if (stream != null) {
            if (frame.errorCode() == Http2Frames.REFUSED_STREAM) {
              refused.add(stream.message); // not processed: safe to send again
            } else {
              failed.increment();
            }
          }
        }
        case Http2Frames.GOAWAY -> {
          goAway = true;
          writable = false;
          if (frame.errorCode() != Http2Frames.NO_ERROR) {
            return End.ABNORMAL;
          }
          lastStreamId = Math.min(lastStreamId, frame.lastStreamId());
          refuseAbove(lastStreamId);
          return finished();
        }
        case Http2Frames.PUSH_PROMISE -> {
          return End.ABNORMAL; // refused in the SETTINGS sent
        }
        default -> {
          // WINDOW_UPDATE, PRIORITY, unknown types: nothing to do for a client that sends no data.
        }
      }
      return null;
    }

    /** A HEADERS frame's whole block, with the CONTINUATIONs that must follow it at once. */
    private byte[] headerBlock(Http2Frames.Frame frame) throws IOException {
      byte[] block = frame.headerBlock();
      if (frame.has(Http2Frames.END_HEADERS)) {
        return block;
      }
      var whole = new ByteArrayOutputStream();
      whole.writeBytes(block);
      while (true) {
        Http2Frames.Frame next = Http2Frames.read(in);
        if (next == null || next.type() != Http2Frames.CONTINUATION) {
          throw new IOException("a header block cut short");
        }
        whole.writeBytes(next.payload());
        if (next.has(Http2Frames.END_HEADERS)) {
          return whole.toByteArray();
        }
      }
    }

    private @Nullable End answered(int streamId) {
      Pending stream = pending.remove(streamId);
      if (stream != null) {
        if (stream.status == 200) {
          answered.increment();
        } else {
          failed.increment();
        }
      }
      return finished();
    }

    /**
     * Polite, and closed by the client, once the final GOAWAY came and its streams are answered.
     */
    private @Nullable End finished() {
      return goAway && lastStreamId < Http2Frames.MAX_STREAM_ID && pending.isEmpty()
          ? End.POLITE
          : null;
    }

    /** Streams above the final GOAWAY's last stream id: never seen by the server's app. */
    private void refuseAbove(int last) {
      for (Iterator<Map.Entry<Integer, Pending>> i = pending.entrySet().iterator(); i.hasNext(); ) {
        var entry = i.next();
        if (entry.getKey() > last) {
          refused.add(entry.getValue().message);
          i.remove();
        }
      }
    }
  }
}
