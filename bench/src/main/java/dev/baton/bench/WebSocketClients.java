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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * WebSocket clients on {@code ws://host:port/ws}, each sending a short text that the server echoes.
 * A close frame with 1012 is a polite end: the client closes, reconnects after the jitter, and
 * sends again what was not echoed (the server sends nothing after its close frame, so nothing is
 * both echoed and sent again). Any other end is abnormal and loses what was owed.
 */
final class WebSocketClients extends LongLivedFleet {
  /** How long a client that answered a close frame waits for the server to close the TCP side. */
  private static final int CLOSE_LINGER_MILLIS = 1_000;

  private static final int MAX_HEAD = 8_192;

  private WebSocketClients(
      InetSocketAddress address, int clients, Duration every, Duration jitter, Duration ramp) {
    super(address, clients, every, jitter, ramp);
  }

  static LongLivedClients start(
      InetSocketAddress address, int clients, Duration every, Duration jitter, Duration ramp)
      throws InterruptedException {
    return new WebSocketClients(address, clients, every, jitter, ramp).startAll();
  }

  @Override
  Connection connect(Socket socket) throws IOException {
    byte[] nonce = new byte[16];
    ThreadLocalRandom.current().nextBytes(nonce);
    String key = Base64.getEncoder().encodeToString(nonce);
    String host = address.getHostString() + ":" + address.getPort();
    OutputStream out = socket.getOutputStream();
    out.write(
        ("GET /ws HTTP/1.1\r\nHost: "
                + host
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                + key
                + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    var in = new BufferedInputStream(socket.getInputStream(), 1024);
    String head = head(in);
    if (!head.startsWith("HTTP/1.1 101")) {
      throw new IOException("no upgrade: " + head.lines().findFirst().orElse(""));
    }
    String accept = "sec-websocket-accept: " + WebSocketFrames.accept(key).toLowerCase(Locale.ROOT);
    if (head.toLowerCase(Locale.ROOT).lines().noneMatch(line -> line.strip().equals(accept))) {
      throw new IOException("a wrong or missing Sec-WebSocket-Accept");
    }
    return new WsConnection(socket, in, out);
  }

  /** The response's head, up to its empty line; the bytes after it stay in {@code in}. */
  private static String head(InputStream in) throws IOException {
    var head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("end of stream in the handshake");
      }
      head.write(b);
      matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
      if (head.size() > MAX_HEAD) {
        throw new IOException("a handshake response above " + MAX_HEAD + " bytes");
      }
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private final class WsConnection extends Connection {
    private final InputStream in;
    private final OutputStream out;

    /** Texts sent and not yet echoed, in the order sent, which is the order echoed. */
    private final ArrayDeque<String> owed = new ArrayDeque<>();

    /** False once a close frame was sent or read, or a write failed: nothing more is sent. */
    private boolean writable = true;

    private volatile boolean saidGoodbye;

    WsConnection(Socket socket, InputStream in, OutputStream out) {
      super(socket);
      this.in = in;
      this.out = out;
    }

    @Override
    synchronized void resend(List<String> messages) {
      for (String message : messages) {
        if (write(message)) {
          resent.increment();
        }
      }
    }

    @Override
    synchronized void send(String message) {
      if (!stopping() && write(message)) {
        sent.increment();
      }
    }

    /** Owes {@code message} once it may have left, and whether it was taken: the caller counts. */
    private boolean write(String message) {
      if (!writable) {
        return false;
      }
      owed.addLast(message);
      try {
        out.write(WebSocketFrames.text(message, ThreadLocalRandom.current().nextInt()));
      } catch (IOException e) {
        writable = false; // the reader sees the end too, and tells how it ended
      }
      return true;
    }

    @Override
    synchronized int owed() {
      return owed.size();
    }

    @Override
    void goodbye() {
      saidGoodbye = true;
      synchronized (this) {
        if (writable) {
          writable = false;
          try {
            out.write(
                WebSocketFrames.close(
                    WebSocketFrames.NORMAL, ThreadLocalRandom.current().nextInt()));
          } catch (IOException e) {
            LongLivedFleet.closeQuietly(socket);
          }
        }
      }
    }

    @Override
    End read() {
      End end = readFrames();
      synchronized (this) {
        writable = false;
        if (end == End.POLITE) {
          carry = new ArrayList<>(owed);
        } else {
          lost = owed.size();
        }
        owed.clear();
      }
      return end;
    }

    private End readFrames() {
      var message = new ByteArrayOutputStream();
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
            return End.ABNORMAL; // 1006: no close frame
          }
          WebSocketFrames.Frame frame = WebSocketFrames.readAfter(first, in);
          switch (frame.opcode()) {
            case WebSocketFrames.TEXT, WebSocketFrames.CONTINUATION -> {
              message.writeBytes(frame.payload());
              if (frame.fin()) {
                echoed(message.toString(StandardCharsets.UTF_8));
                message.reset();
              }
            }
            case WebSocketFrames.PING -> pong(frame.payload());
            case WebSocketFrames.CLOSE -> {
              return closed(frame.closeCode());
            }
            default -> {
              // Pongs, binary frames: nothing the fleet sent asks for them.
            }
          }
        }
      } catch (IOException e) {
        return End.ABNORMAL;
      }
    }

    private synchronized void echoed(String text) {
      if (text.equals(owed.peekFirst())) {
        owed.removeFirst();
        answered.increment();
      } else if (owed.remove(text)) {
        answered.increment();
      }
    }

    private synchronized void pong(byte[] payload) throws IOException {
      if (writable) {
        out.write(WebSocketFrames.pong(payload, ThreadLocalRandom.current().nextInt()));
      }
    }

    /**
     * The server's close frame: answered with one carrying its code, then the TCP close awaited.
     */
    private End closed(int code) throws IOException {
      synchronized (this) {
        if (writable) {
          writable = false;
          out.write(WebSocketFrames.close(code, ThreadLocalRandom.current().nextInt()));
        }
      }
      if (!saidGoodbye) {
        try {
          socket.setSoTimeout(CLOSE_LINGER_MILLIS);
          while (in.read() >= 0) {
            // The server sends nothing after its close frame but its TCP close.
          }
        } catch (IOException e) {
          // Closed, reset or slow: the close frames were exchanged all the same.
        }
      }
      return code == WebSocketFrames.SERVICE_RESTART ? End.POLITE : End.ABNORMAL;
    }
  }
}
