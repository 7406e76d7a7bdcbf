package dev.baton.sample;

import static java.util.stream.Collectors.joining;

import dev.baton.app.Listener;
import dev.baton.app.Listeners;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sample service: a small HTTP/1.1 server that says which generation and pid answered, used by
 * the demo, the benchmark and the end-to-end tests.
 *
 * <p>It adopts every listener baton hands over (fd 0 and LISTEN_FDS), accepts on one platform
 * thread per listener and serves each connection on a virtual thread. On SIGTERM it drains: it
 * stops accepting by closing its own fds of the listeners (the sockets live on in the supervisor),
 * serves every connection it accepted, and exits 0 when none is left.
 */
public final class SampleServer {

  private final Options options;
  private final String identity;
  private final Set<HttpConnection> open = ConcurrentHashMap.newKeySet();
  private final List<Thread> acceptors = new ArrayList<>();
  private volatile boolean draining;
  private Listeners listeners;
  private long startNanos;

  private SampleServer(Options options) {
    this.options = options;
    this.identity = "generation " + options.generation() + " pid " + ProcessHandle.current().pid();
  }

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(List.of(args), System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.print("baton-sample: " + e.getMessage() + "\n" + Options.USAGE);
      System.exit(2);
      return;
    }
    if (options.exitAtStart().isPresent()) {
      System.err.println("baton-sample: exiting at start with " + options.exitAtStart().getAsInt());
      System.exit(options.exitAtStart().getAsInt());
    }
    if (options.hang()) {
      System.err.println("baton-sample: hanging before accepting, as --hang asks");
      Thread.sleep(Long.MAX_VALUE);
    }
    Thread.sleep(options.startupDelay());
    SampleServer server = new SampleServer(options);
    try {
      server.start();
    } catch (IOException | IllegalStateException e) {
      System.err.println(e.getMessage().startsWith("baton-") ? e.getMessage() : "baton-sample: " + e);
      System.exit(1);
    }
  }

  private void start() throws IOException {
    listeners =
        Listeners.adoptOr(new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()));
    // From here on SIGTERM drains instead of exiting at once. The hook has the JVM to itself
    // until it halts: the acceptors and connections keep running meanwhile.
    Runtime.getRuntime().addShutdownHook(new Thread(this::drain, "drain"));
    startNanos = System.nanoTime();
    for (Listener listener : listeners.all()) {
      // A platform thread: a blocking accept on a virtual thread would set O_NONBLOCK on the
      // socket, which is shared with the other generations.
      Thread acceptor = new Thread(() -> accept(listener), "accept " + listener.name());
      acceptors.add(acceptor);
      acceptor.start();
    }
    log("listening on " + listeners.all().stream().map(Listener::toString).collect(joining(", ")));
  }

  private void accept(Listener listener) {
    boolean tcp = !(listener.address() instanceof UnixDomainSocketAddress);
    while (true) {
      SocketChannel channel;
      try {
        channel = listener.channel().accept();
      } catch (ClosedChannelException e) {
        return; // the drain closed our fd of the listener
      } catch (IOException e) {
        if (!listener.channel().isOpen()) {
          return;
        }
        // Out of fds, say: keep the thread, slow down, and let the queue wait.
        System.err.println("baton-sample: accept on " + listener + " failed: " + e);
        sleepQuietly(100);
        continue;
      }
      try {
        if (tcp) {
          channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
      } catch (IOException e) {
        // a connection reset already; its thread will find out
      }
      // Registered before its thread starts, so that a drain counts it from the first moment.
      HttpConnection connection = new HttpConnection(this, channel);
      open.add(connection);
      Thread.startVirtualThread(connection);
    }
  }

  /** Runs in the shutdown hook, on SIGTERM or SIGINT. */
  private void drain() {
    long begin = System.nanoTime();
    draining = true;
    try {
      listeners.close();
    } catch (IOException e) {
      System.err.println("baton-sample: closing the listeners failed: " + e);
    }
    for (Thread acceptor : acceptors) {
      // A connection accepted in the last instant is registered once its acceptor has ended.
      try {
        acceptor.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    log("draining: stopped accepting, " + open.size() + " connections open");
    long deadline = begin + options.drainTimeout().toNanos();
    long idleNanos = options.idleClose().toNanos();
    while (!open.isEmpty() && System.nanoTime() - deadline < 0) {
      long now = System.nanoTime();
      for (HttpConnection connection : open) {
        connection.closeIfIdleFor(idleNanos, now);
      }
      sleepQuietly(10);
    }
    long millis = (System.nanoTime() - begin) / 1_000_000;
    if (open.isEmpty()) {
      log("drained in " + millis + " ms; exiting");
    } else {
      log("drain cut off after " + millis + " ms with " + open.size() + " connections open");
    }
    // Exit 0 rather than the 143 a SIGTERM'd JVM reports: the drain was asked for and done.
    Runtime.getRuntime().halt(0);
  }

  /** The answer to one request: the application part of the sample. */
  Response answer(RequestHead head, long bodyBytes) throws InterruptedException {
    String method = head.method();
    if (method.equals("GET") || method.equals("HEAD")) {
      if (head.path().equals("/healthz")) {
        return healthy() ? new Response(200, "ok") : new Response(500, "fail");
      }
      Thread.sleep(options.work());
      return new Response(200, identity + "\n");
    }
    if (method.equals("POST")) {
      Thread.sleep(options.work());
      return new Response(200, identity + " read " + bodyBytes + "\n");
    }
    return new Response(405, "method not allowed\n", "Allow: GET, HEAD, POST\r\n");
  }

  /** Whether an answer may take time, so that pipelined responses are sent one by one. */
  boolean answersTakeTime() {
    return !options.work().isZero();
  }

  boolean draining() {
    return draining;
  }

  void closed(HttpConnection connection) {
    open.remove(connection);
  }

  private boolean healthy() {
    return options.healthy()
        && options
            .failHealthAfter()
            .map(after -> System.nanoTime() - startNanos < after.toNanos())
            .orElse(true);
  }

  private void log(String message) {
    System.out.println(identity + " " + message);
    System.out.flush();
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
