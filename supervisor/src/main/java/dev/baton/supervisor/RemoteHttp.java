package dev.baton.supervisor;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote API's HTTP/1.1 server: one request per connection, every read bounded in size and
 * time. It replaces the JDK's com.sun.net.httpserver, whose limits are JVM-wide system properties
 * read once when its first server is made, and whose defaults (checked in JDK 25's ServerConfig)
 * are no connection cap, no request deadline and 380 KiB of request headers: 200 clients sending an
 * endless header slowly filled the supervisor's 48 MiB heap.
 *
 * <p>The limits ({@link Limits}): at most {@code connections} open connections, a connection over
 * that is answered 503 and closed at once; the request line and headers in at most {@code
 * headerBytes} bytes and {@code headerLines} lines (431 otherwise); a body only with a
 * Content-Length of at most {@code bodyBytes}, checked before a byte of it is read (413, and 411 or
 * 501 for no length or a chunked body); the whole request, TLS handshake, headers and body, within
 * {@code deadline} of the accept, however slowly it trickles; and each write of the answer within
 * {@code deadline}, so a client that stops reading frees its connection. A connection past a
 * deadline is closed by one watchdog thread, which closes the plain socket under any TLS, so that
 * every blocked read or write ends.
 *
 * <p>Threads: one accept thread and one watchdog (virtual threads), and a virtual thread per open
 * connection. Nothing a client sends ends the first two; an exception the handler did not expect is
 * logged, counted, answered 500 and ends that connection only.
 */
final class RemoteHttp implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteHttp.class);
  private static final Duration WATCH = Duration.ofMillis(250);

  /** Every bound of a connection; see the class comment. */
  record Limits(
      int connections, int headerBytes, int headerLines, int bodyBytes, Duration deadline) {
    static final Limits DEFAULT = new Limits(64, 8 << 10, 64, 64 << 10, Duration.ofSeconds(10));
  }

  /** One request's line and headers (names in lower case); its body is read only when asked for. */
  interface Exchange {
    String method();

    String path();

    Optional<String> header(String name);

    InetSocketAddress remote();

    /**
     * The body, at most {@link Limits#bodyBytes}; answers 413, 411 or 501 and throws when it cannot
     * be taken.
     */
    byte[] body() throws IOException;

    void send(int code, Map<String, String> headers, byte[] body) throws IOException;

    /** A chunked answer: each write is one chunk, flushed; closing it ends the answer. */
    OutputStream stream(int code, String contentType) throws IOException;
  }

  interface Handler {
    void handle(Exchange exchange) throws IOException;
  }

  /** Thrown once the server has already answered a request it will not take further. */
  static final class Refused extends IOException {
    Refused(String message) {
      super(message);
    }
  }

  private final ServerSocket listener;
  private final @Nullable SSLContext tls;
  private final Limits limits;
  private final Handler handler;
  private final Set<Connection> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger count = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong expired = new AtomicLong();
  private final AtomicLong unexpected = new AtomicLong();
  private volatile boolean closed;
  private @Nullable Thread acceptor;
  private @Nullable Thread watchdog;

  /** Serves over TLS with {@code tls}, in clear without. */
  RemoteHttp(ServerSocket listener, @Nullable SSLContext tls, Limits limits, Handler handler) {
    this.listener = listener;
    this.tls = tls;
    this.limits = limits;
    this.handler = handler;
  }

  void start() {
    acceptor = Thread.ofVirtual().name("baton-remote-accept").start(this::acceptLoop);
    watchdog = Thread.ofVirtual().name("baton-remote-watchdog").start(this::watchLoop);
  }

  InetSocketAddress address() {
    return (InetSocketAddress) listener.getLocalSocketAddress();
  }

  /**
   * Connections closed at once for the cap, closed at a deadline, and handler failures: for tests
   * and logs.
   */
  long refused() {
    return refused.get();
  }

  int open() {
    return count.get();
  }

  long expired() {
    return expired.get();
  }

  long unexpected() {
    return unexpected.get();
  }

  boolean serving() {
    var a = acceptor;
    var w = watchdog;
    return a != null && a.isAlive() && w != null && w.isAlive();
  }

  /** Stops accepting; the connections still open are closed after {@code grace}. */
  void stop(Duration grace) {
    closed = true;
    quietly(listener);
    long end = System.nanoTime() + grace.toNanos();
    while (!open.isEmpty() && System.nanoTime() < end) {
      sleep(WATCH);
    }
    open.forEach(c -> quietly(c.socket));
    if (watchdog != null) {
      watchdog.interrupt();
    }
  }

  @Override
  public void close() {
    stop(Duration.ZERO);
  }

  private void acceptLoop() {
    while (!closed) {
      Socket socket;
      try {
        socket = listener.accept();
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          // Out of descriptors, most likely: wait for some to be freed instead of spinning.
          LOG.warn("remote API: accept failed: {}", e.toString());
          sleep(Duration.ofMillis(100));
        }
        continue;
      }
      if (count.incrementAndGet() > limits.connections()) {
        count.decrementAndGet();
        refused.incrementAndGet();
        refuse(socket, tls == null);
        continue;
      }
      var connection = new Connection(socket, System.nanoTime() + limits.deadline().toNanos());
      open.add(connection);
      try {
        Thread.ofVirtual().name("baton-remote").start(() -> serve(connection));
      } catch (RuntimeException | OutOfMemoryError e) {
        LOG.warn("remote API: cannot start a thread for a connection: {}", e.toString());
        end(connection);
      }
    }
  }

  /**
   * A fresh socket's send buffer is empty, so this short write cannot block the accept thread. Over
   * TLS the client would read it as a broken handshake: there the connection is just closed.
   */
  private static void refuse(Socket socket, boolean plain) {
    try (socket) {
      if (plain) {
        socket
            .getOutputStream()
            .write(
                ("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n"
                        + "Retry-After: 1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
      }
    } catch (IOException e) {
      // Gone already.
    }
  }

  private void watchLoop() {
    while (!closed) {
      sleep(WATCH);
      long now = System.nanoTime();
      for (var c : open) {
        if (now - c.deadline > 0) {
          expired.incrementAndGet();
          quietly(c.socket);
        }
      }
    }
  }

  private void serve(Connection c) {
    try {
      c.socket.setTcpNoDelay(true);
      var exchange = new RemoteExchange(c, limits);
      if (exchange.readHead()) {
        handler.handle(exchange);
        exchange.finish();
      }
    } catch (Refused | SocketException e) {
      LOG.debug(
          "remote API: connection from {} ended: {}",
          c.socket.getRemoteSocketAddress(),
          e.getMessage());
    } catch (IOException e) {
      LOG.debug(
          "remote API: connection from {} ended: {}",
          c.socket.getRemoteSocketAddress(),
          e.toString());
    } catch (RuntimeException e) {
      unexpected.incrementAndGet();
      LOG.warn("remote API: request from {} failed", c.socket.getRemoteSocketAddress(), e);
    } finally {
      end(c);
    }
  }

  private void end(Connection c) {
    if (open.remove(c)) {
      count.decrementAndGet();
    }
    quietly(c.socket);
  }

  /**
   * A connection and its one deadline: the request's until it is read, then each write's; {@code
   * Long.MAX_VALUE} away while the handler waits for something else (a deploy's next event).
   */
  final class Connection {
    final Socket socket;
    volatile long deadline;
    private @Nullable Socket stream;

    Connection(Socket socket, long deadline) {
      this.socket = socket;
      this.deadline = deadline;
    }

    void idle() {
      deadline = System.nanoTime() + Duration.ofDays(365).toNanos();
    }

    void writing() {
      deadline = System.nanoTime() + limits.deadline().toNanos();
    }

    /**
     * The socket to talk through: TLS over the plain one, handshaking within the request's
     * deadline.
     */
    Socket stream() throws IOException {
      if (stream == null) {
        if (tls != null) {
          var ssl =
              (SSLSocket) tls.getSocketFactory().createSocket(socket, null, socket.getPort(), true);
          ssl.setUseClientMode(false);
          stream = ssl;
        } else {
          stream = socket;
        }
      }
      return stream;
    }
  }

  private static void quietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // Closing is all that is left to do with it.
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String reason(int code) {
    return switch (code) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 411 -> "Length Required";
      case 413 -> "Content Too Large";
      case 431 -> "Request Header Fields Too Large";
      case 501 -> "Not Implemented";
      case 503 -> "Service Unavailable";
      default -> "Error";
    };
  }

  static Map<String, String> json() {
    var headers = new LinkedHashMap<String, String>();
    headers.put("Content-Type", "application/json");
    return headers;
  }
}
