package dev.baton.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server for tests, with a thread per connection, that lets each test decide how
 * every request is answered, or misanswered. {@link #close()} ends every thread it started.
 */
final class TestServer implements AutoCloseable {

  /** How the server answers one request. */
  @FunctionalInterface
  interface Behaviour {
    void answer(Exchange exchange) throws IOException;
  }

  /** One request, and the connection to answer it on. */
  static final class Exchange {
    final String method;
    final String path;
    final byte[] body;

    /** This request's number across the server, from 1. */
    final int number;

    /** This request's number on its connection, from 1. */
    final int onConnection;

    private final Socket socket;
    private final AtomicInteger inFlight;
    private boolean answered;
    private boolean closed;

    private Exchange(
        String method,
        String path,
        byte[] body,
        int number,
        int onConnection,
        Socket socket,
        AtomicInteger inFlight) {
      this.method = method;
      this.path = path;
      this.body = body;
      this.number = number;
      this.onConnection = onConnection;
      this.socket = socket;
      this.inFlight = inFlight;
    }

    /** Sends a complete response with a Content-Length, and any extra header lines. */
    void respond(int status, String body, String... headers) throws IOException {
      var head = new StringBuilder("HTTP/1.1 " + status + " " + reason(status) + "\r\n");
      for (String header : headers) {
        head.append(header).append("\r\n");
      }
      head.append("Content-Length: ").append(body.length()).append("\r\n\r\n").append(body);
      write(head.toString());
    }

    /** Sends raw bytes, flushed at once. */
    void write(String text) throws IOException {
      // Counted as answered before the client can see a byte, so that a client that waits for the
      // response can never make two requests look in flight at once.
      answer();
      OutputStream out = socket.getOutputStream();
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    /** Closes the connection with a FIN. */
    void close() throws IOException {
      answer();
      closed = true;
      socket.close();
    }

    /** Closes the connection with an RST, as a crashing server does. */
    void reset() throws IOException {
      answer();
      closed = true;
      socket.setSoLinger(true, 0);
      socket.close();
    }

    private void answer() {
      if (!answered) {
        answered = true;
        inFlight.decrementAndGet();
      }
    }

    private static String reason(int status) {
      return switch (status) {
        case 200 -> "OK";
        case 404 -> "Not Found";
        case 503 -> "Service Unavailable";
        default -> "Status";
      };
    }
  }

  private final ServerSocket listener;
  private final Behaviour behaviour;
  private final List<Thread> threads = new ArrayList<>();
  private final ConcurrentHashMap.KeySetView<Socket, Boolean> sockets =
      ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final Thread acceptor;

  private TestServer(InetAddress address, Behaviour behaviour) throws IOException {
    this.listener = new ServerSocket(0, 200, address);
    this.behaviour = behaviour;
    this.acceptor = Thread.ofPlatform().name("test-server-accept").start(this::acceptLoop);
  }

  static TestServer start(Behaviour behaviour) throws IOException {
    return new TestServer(InetAddress.getLoopbackAddress(), behaviour);
  }

  static TestServer start(InetAddress address, Behaviour behaviour) throws IOException {
    return new TestServer(address, behaviour);
  }

  /** A server that answers every request 200 with a small body. */
  static TestServer ok() throws IOException {
    return start(exchange -> exchange.respond(200, "hello"));
  }

  InetSocketAddress address() {
    return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
  }

  int accepted() {
    return accepted.get();
  }

  int requests() {
    return requests.get();
  }

  /** The most requests this server was ever answering at once, over all connections. */
  int maxInFlight() {
    return maxInFlight.get();
  }

  @Override
  public void close() throws Exception {
    listener.close();
    acceptor.join();
    for (Socket socket : sockets) {
      socket.close();
    }
    List<Thread> started;
    synchronized (threads) {
      started = List.copyOf(threads);
    }
    for (Thread thread : started) {
      thread.join();
    }
  }

  private void acceptLoop() {
    while (true) {
      Socket socket;
      try {
        socket = listener.accept();
      } catch (IOException closed) {
        return;
      }
      accepted.incrementAndGet();
      sockets.add(socket);
      synchronized (threads) {
        threads.add(Thread.ofPlatform().name("test-server-conn").start(() -> serve(socket)));
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      var in = new BufferedInputStream(socket.getInputStream());
      for (int onConnection = 1; ; onConnection++) {
        var requestLine = readLine(in);
        if (requestLine == null) {
          return; // the client closed
        }
        int contentLength = 0;
        for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
          if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
            contentLength = Integer.parseInt(line.substring("content-length:".length()).trim());
          }
        }
        byte[] body = in.readNBytes(contentLength);
        String[] parts = requestLine.split(" ");
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        var exchange =
            new Exchange(
                parts[0],
                parts[1],
                body,
                requests.incrementAndGet(),
                onConnection,
                socket,
                inFlight);
        try {
          behaviour.answer(exchange);
        } finally {
          exchange.answer();
        }
        if (exchange.closed) {
          return;
        }
      }
    } catch (IOException e) {
      // The client went away, or the test closed the server: this connection is done.
    } finally {
      sockets.remove(socket);
    }
  }

  /** A CRLF-terminated line without its CRLF, or null at EOF. */
  private static String readLine(InputStream in) throws IOException {
    var line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }
}
