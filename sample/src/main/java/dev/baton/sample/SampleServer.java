package dev.baton.sample;

import static java.util.stream.Collectors.joining;

import dev.baton.app.Baton;
import dev.baton.app.Listener;
import dev.baton.app.Listeners;
import dev.baton.app.NioAcceptor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The sample service: a small HTTP/1.1 server that says which generation and pid answered, used by
 * the demo, the benchmark and the end-to-end tests.
 *
 * <p>It adopts every listener baton hands over (fd 0 and LISTEN_FDS), accepts on them with
 * baton-app's {@link NioAcceptor} and serves each connection on a virtual thread. Under baton it
 * speaks BATON_CONTROL: it starts paused when told to (answering only on its private probe
 * listener), says READY once up, and is paused and resumed by the supervisor, which is how it gets
 * parked for an instant rollback. On SIGTERM it drains: it stops accepting and closes its own fds
 * of the listeners (the sockets live on in the supervisor), serves every connection it accepted,
 * and exits 0 when none is left.
 */
public final class SampleServer {

  private final Options options;
  private final String identity;
  private final Set<HttpConnection> open = ConcurrentHashMap.newKeySet();
  private volatile boolean draining;
  private volatile boolean parked;

  /** Whether start-up is done: /healthz answers 503 before, so no probe finds it ready early. */
  private volatile boolean up;

  /**
   * When it first took public traffic (its first resume), for --fail-health-after; 0 before. Under
   * baton that is the promotion, so a version "turns bad N s after promotion".
   */
  private volatile long servingSinceNanos;

  // Set once by start(); the drain, on another thread, may come before.
  private volatile @Nullable Listeners listeners;
  private volatile @Nullable NioAcceptor acceptor;

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
      String message = String.valueOf(e.getMessage());
      System.err.println(message.startsWith("baton-") ? message : "baton-sample: " + e);
      System.exit(1);
    }
  }

  private void start() throws IOException {
    InetSocketAddress fallback =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port());
    Listeners adopted =
        options.reusePort()
            ? Listeners.adoptOr(fallback, StandardSocketOptions.SO_REUSEPORT)
            : Listeners.adoptOr(fallback);
    listeners = adopted;
    // From here on SIGTERM drains instead of exiting at once. The hook has the JVM to itself
    // until it halts: the acceptor and connections keep running meanwhile.
    Runtime.getRuntime().addShutdownHook(new Thread(this::drain, "drain"));
    // Paused but for the probe listener until told otherwise: under baton a new generation takes
    // no public traffic before the supervisor has checked it and resumes it at promotion.
    NioAcceptor started = NioAcceptor.start(adopted.all(), this::accepted);
    acceptor = started;
    Baton baton =
        Baton.connect(
            new Baton.Acceptor() {
              @Override
              public void pause() {
                started.pause();
                // Parked: the kept-alive connections must move to the new generation too, or a
                // client that pools connections (HAProxy does) would keep talking to the old
                // version. So they are let go as in a drain, but the process stays, warm, for a
                // rollback.
                parked = true;
                Thread.startVirtualThread(() -> closeIdleWhile(() -> parked));
                log(
                    "paused: not accepting, "
                        + open.size()
                        + " connections open, each closed after its next answer or when idle");
              }

              @Override
              public void resume() {
                parked = false;
                resumeAccepting(started);
                log("resumed: accepting");
              }
            });
    if (!baton.startPaused()) {
      resumeAccepting(started);
    }
    log(
        "listening on "
            + adopted.all().stream().map(Listener::toString).collect(joining(", "))
            + (baton.startPaused()
                ? "; paused until the supervisor resumes it, but on the probe"
                : ""));
    up = true;
    baton.ready();
  }

  private void resumeAccepting(NioAcceptor started) {
    if (servingSinceNanos == 0) {
      servingSinceNanos = System.nanoTime();
    }
    started.resume();
  }

  private void accepted(Listener listener, SocketChannel channel) {
    if (!(listener.address() instanceof UnixDomainSocketAddress)) {
      try {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      } catch (IOException e) {
        // a connection reset already; its thread will find out
      }
    }
    // Registered before its thread starts, so that a drain counts it from the first moment.
    HttpConnection connection = new HttpConnection(this, channel);
    open.add(connection);
    Thread.startVirtualThread(connection);
  }

  /** Runs in the shutdown hook, on SIGTERM or SIGINT. */
  private void drain() {
    long begin = System.nanoTime();
    draining = true;
    // Returns once its thread has ended: a connection accepted in the last instant is registered.
    NioAcceptor started = acceptor;
    if (started != null) {
      started.close();
    }
    try {
      Listeners adopted = listeners;
      if (adopted != null) {
        adopted.close();
      }
    } catch (IOException e) {
      System.err.println("baton-sample: closing the listeners failed: " + e);
    }
    log("draining: stopped accepting, " + open.size() + " connections open");
    long deadline = begin + options.drainTimeout().toNanos();
    closeIdleWhile(() -> System.nanoTime() - deadline < 0);
    long millis = (System.nanoTime() - begin) / 1_000_000;
    if (open.isEmpty()) {
      log("drained in " + millis + " ms; exiting");
    } else {
      log("drain cut off after " + millis + " ms with " + open.size() + " connections open");
    }
    // Exit 0 rather than the 143 a SIGTERM'd JVM reports: the drain was asked for and done.
    Runtime.getRuntime().halt(0);
  }

  /**
   * Closes each connection once it has waited idle for a next request for --idle-close, while
   * {@code condition} holds and connections remain: closing a connection the moment it is idle
   * would race with a client that is sending on it right then.
   */
  private void closeIdleWhile(java.util.function.BooleanSupplier condition) {
    long idleNanos = options.idleClose().toNanos();
    while (!open.isEmpty() && condition.getAsBoolean()) {
      long now = System.nanoTime();
      for (HttpConnection connection : open) {
        connection.closeIfIdleFor(idleNanos, now);
      }
      sleepQuietly(10);
    }
  }

  /** The answer to one request: the application part of the sample. */
  Response answer(RequestHead head, long bodyBytes) throws InterruptedException {
    String method = head.method();
    if (turnedBad()) {
      return new Response(500, "this version turned bad, as --fail-after asks\n");
    }
    if (method.equals("GET") || method.equals("HEAD")) {
      if (head.path().equals("/healthz")) {
        if (!up) {
          return new Response(503, "starting");
        }
        return healthy() ? new Response(200, "ok") : new Response(500, "fail");
      }
      Thread.sleep(options.work());
      return new Response(200, identity + work() + "\n");
    }
    if (method.equals("POST")) {
      Thread.sleep(options.work());
      return new Response(200, identity + " read " + bodyBytes + work() + "\n");
    }
    return new Response(405, "method not allowed\n", "Allow: GET, HEAD, POST\r\n");
  }

  /** Whether an answer may take time, so that pipelined responses are sent one by one. */
  boolean answersTakeTime() {
    return !options.work().isZero();
  }

  /** Whether each connection is to be closed after its next answer: draining, or parked. */
  boolean lettingConnectionsGo() {
    return draining || parked;
  }

  void closed(HttpConnection connection) {
    open.remove(connection);
  }

  /** The CPU work of --work-cpu, with its result in the body so the JIT cannot drop it. */
  private String work() {
    return options.workCpu() == 0 ? "" : " work " + CpuWork.run(options.workCpu());
  }

  private boolean healthy() {
    return options.healthy()
        && !options.failHealthAfter().map(this::servedLongerThan).orElse(false);
  }

  private boolean turnedBad() {
    return options.failAfter().map(this::servedLongerThan).orElse(false);
  }

  /** Whether it has taken public traffic for longer than {@code limit}. */
  private boolean servedLongerThan(Duration limit) {
    long since = servingSinceNanos;
    return since != 0 && System.nanoTime() - since >= limit.toNanos();
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
